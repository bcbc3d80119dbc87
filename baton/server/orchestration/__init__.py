"""State orchestration: pure decisions on proposed run states (Prefect 3.9's policies, rules and transforms).

`policies.orchestrate` takes a `context.TransitionContext` and returns a `context.TransitionOutcome`; reading and
writing the database is the caller's job (`baton.server.models.runs.states`).
"""
