"""The shop's settings and this desk's own settings."""
