"""Publishing: connected social accounts, posts and their way to the platforms (issue 9)."""
