"""The work queue: the Dramatiq broker (Redis, or in memory), the message contracts, publishing, and the beat.

A subpackage on purpose: a top-level package named `queue` would shadow the standard library's.
"""
