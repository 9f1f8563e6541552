"""The first-run setup: one guided dialog for a new shop."""
