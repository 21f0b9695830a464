"""Accounts: passwords, sessions, tokens, API keys, OAuth, principals, encryption."""
