"""Schedule sources other than our own tables: St Petersburg's Gorzdrav (issue 11)."""
