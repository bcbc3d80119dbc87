"""Flows, flow runs and task runs: their states, logs, inputs, names, history and clean-up."""
