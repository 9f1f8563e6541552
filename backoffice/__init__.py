"""Back office for small web shops: everything that runs without Qt."""

__version__ = "0.1.0"
