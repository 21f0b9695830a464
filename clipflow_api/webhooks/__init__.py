"""Outgoing webhooks: endpoints, their signing secrets and delivery log."""
