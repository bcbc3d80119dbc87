"""Events: storing, querying, and the events the server emits for its own state changes."""
