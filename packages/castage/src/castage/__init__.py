"""castage: the CI script that builds, tags and pushes every stage of a multi-stage Dockerfile so each is cached."""

__version__ = "0.1.0"
