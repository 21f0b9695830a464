"""Feature flags: platform-wide switches that platform staff manage."""
