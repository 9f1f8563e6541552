"""The web store sync: its screen and the status-bar controller."""
