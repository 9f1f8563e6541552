"""Getting orders out of the door: the orders to ship, packing slips and pick lists, packing
by scanning, and marking orders printed, packed and shipped."""
