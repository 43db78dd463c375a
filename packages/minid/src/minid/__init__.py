"""minid: fewer layers, same build — merges consecutive RUN/ENV/LABEL/COPY/ADD without changing what a step does."""

__version__ = "0.1.0"
