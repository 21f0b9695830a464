"""Publishing in GraphQL: social account and post mutations, the calendar, post progress."""
