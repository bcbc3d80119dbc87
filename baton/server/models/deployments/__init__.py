"""Deployments, their schedules, the runs made from them and the scheduler's data access."""
