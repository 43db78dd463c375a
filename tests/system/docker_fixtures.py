"""Session fixtures for the private Docker daemon, registry, buildah and the image-archive fixtures."""
