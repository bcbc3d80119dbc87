"""Filter and sort bodies (the request schemas) turned into SQL conditions and ORDER BY lists."""
