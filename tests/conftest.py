"""Fixtures for every test: the real-components harness lives in tests/system/ and is shared by all tools."""

pytest_plugins = [
    "tests.system.docker_fixtures",  # dockerd, registry, busybox_image, buildah, image archives
    "tests.system.http_fixtures",  # nginx, busybox_path
    "tests.system.registry_fixtures",  # basic_registry, token_registry (Bearer), docker_login
    "tests.system.web_fixtures",  # apache, lighttpd, caddy, http.server, S3 (moto) + redirector, the shaper
]
