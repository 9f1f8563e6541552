"""Newsletter lists: the Newsletters screen and the consent dialogs of the customer page."""
