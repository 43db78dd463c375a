"""Image archives of every common format, read into one model: Image -> Layer -> Entry.

Formats: ``docker save`` (legacy and Docker 25+), buildah's docker-archive, OCI image layouts as tar (gzip, zstd
or uncompressed layers; umoci's ``./`` members) or as a directory (skopeo ``oci:``), several images or platforms
in one archive. From a file (or stdin redirected from one), data is seeked past; from a pipe, read in one pass.
Contents are never extracted nor held: an Entry is a tar header.

Modules: ``model`` (the model), ``reader`` (open and choose an image), ``docker_save`` and ``oci_layout`` (one per
format), ``store`` (tar file, stream or directory), ``layers`` and ``compression`` (one layer blob), ``tarstream``
(the header walker), ``stacking`` (whiteouts and overwrites: what the final filesystem shows, what is wasted).

>>> from dockit.archive import read_image, stack
>>> image = read_image("image.tar", tag="app:latest")  # doctest: +SKIP
>>> [(layer.command, layer.size) for layer in image.layers], stack(image.layers).wasted_bytes  # doctest: +SKIP
"""

from dockit.archive.model import Entry, HistoryEntry, Image, ImageRef, Layer, Platform
from dockit.archive.reader import list_images, read_image
from dockit.archive.stacking import Stack, stack
from dockit.archive.store import LayerCache

__all__ = [
    "Entry",
    "HistoryEntry",
    "Image",
    "ImageRef",
    "Layer",
    "LayerCache",
    "Platform",
    "Stack",
    "list_images",
    "read_image",
    "stack",
]
