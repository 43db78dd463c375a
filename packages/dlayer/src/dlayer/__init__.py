"""dlayer: why is this image big - per-layer sizes, commands and biggest files of any image archive."""

__version__ = "0.1.0"
