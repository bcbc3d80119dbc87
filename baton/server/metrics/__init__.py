"""Prometheus metrics of the API server: its requests (`requests`), its database pool and the cluster-wide figures
read from the database and the queue (`cluster`), and the registry `/metrics` renders (`exposition`)."""
