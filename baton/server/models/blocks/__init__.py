"""Blocks: types, schemas and documents."""
