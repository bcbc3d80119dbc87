"""UI pages: one module per area, each ending with its `routes` list."""
