"""Shipping at the desk: the orders to ship, batch printing of slips and pick lists, packing
by scanning, and marking orders shipped."""
