"""targd: print only the stages a Dockerfile target needs."""

__version__ = "0.1.0"
