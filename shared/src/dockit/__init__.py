"""dockit: the one Dockerfile model, image-archive reader and .dockerignore matcher of better-image."""

__version__ = "0.1.0"
