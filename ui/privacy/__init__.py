"""The privacy area: the owner's queue of requests, logging, identity checks and decisions."""
