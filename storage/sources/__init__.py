"""Storage of the schedule sources (issue 11)."""
