"""Templates (video, caption, post, canvas) and the catalogues they draw on: rules and SQL."""
