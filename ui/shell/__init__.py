"""The application shell: navigation, shortcuts, icons and the window's remembered state."""
