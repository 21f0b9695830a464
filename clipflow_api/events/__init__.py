"""Domain events: written in the transaction that caused them, delivered after (webhooks)."""
