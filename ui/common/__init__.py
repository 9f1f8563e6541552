"""Shared by every screen: background tasks, error display, the app context, table and form helpers."""
