"""Notification policies and their deliveries."""
