"""Single source of the package version (kept apart to avoid import cycles)."""

__version__ = "0.1.0"
