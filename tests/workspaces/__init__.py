"""Workspaces: creation, invitations, roles, permissions, removal."""
