"""Orders: the list, an order's page, and taking an order on the phone."""
