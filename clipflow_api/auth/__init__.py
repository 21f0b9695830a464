"""Accounts: passwords, sessions, API keys, OAuth sign-in, and who is calling (``Principal``)."""
