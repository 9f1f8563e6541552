"""The home screen: what waits today, a key away from the screen that deals with it."""
