"""Workspaces (the design's "teams"): creation, members, roles, invitations."""
