"""The archive source: a file (``docker save``, OCI archive; compressed as a whole or not), an OCI layout
directory, or ``-`` for stdin. A thin row over :func:`dockit.archive.reader.read_image`."""

from __future__ import annotations

from dockit.archive.model import Image
from dockit.archive.reader import read_image
from dockit.archive.sources import Request


def read(request: Request) -> Image:
    """Read the archive ``request.target`` names (silently: a path says where it is read from)."""
    return read_image(
        request.target,
        tag=request.tag,
        platform=request.platform,
        digests=request.digests,
        cache=request.cache,
    )
