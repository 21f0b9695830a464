"""Plans, subscriptions and what a workspace's plan allows."""
