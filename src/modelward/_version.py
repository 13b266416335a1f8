"""The installed modelward version."""

__version__ = "0.1.0"
