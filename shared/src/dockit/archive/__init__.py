"""Image archives of every common format, read into one model: Image -> Layer -> Entry.

Formats: ``docker save`` (legacy and Docker 25+), buildah's docker-archive, OCI image layouts as tar (gzip, zstd
or uncompressed layers; umoci's ``./`` members) or as a directory (skopeo ``oci:``). From a file, data is seeked
past; from stdin, read in one pass. Contents are never extracted nor held.

>>> from dockit.archive import read_image
>>> image = read_image("image.tar", tag="app:latest")  # doctest: +SKIP
"""

from dockit.archive.model import Entry, HistoryEntry, Image, ImageRef, Layer, Platform
from dockit.archive.reader import list_images, read_image

__all__ = ["Entry", "HistoryEntry", "Image", "ImageRef", "Layer", "Platform", "list_images", "read_image"]
