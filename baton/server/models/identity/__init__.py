"""Data access for accounts, API keys, sign-in sessions, custom roles, the audit log and the credentials generation."""
