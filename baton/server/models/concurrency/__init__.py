"""Concurrency: global (v2) limits, tag (v1) limits, leases and deployment slots."""
