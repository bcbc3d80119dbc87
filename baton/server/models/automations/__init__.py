"""Data access for automations: the automations themselves, their related resources, firings and action runs."""
