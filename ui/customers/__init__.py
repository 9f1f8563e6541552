"""Customers: the list, a customer's page, addresses, import, duplicates and merging."""
