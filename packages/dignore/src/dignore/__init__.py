"""dignore: the .dockerignore that keeps one service's build context small in a monorepo."""

__version__ = "0.1.0"
