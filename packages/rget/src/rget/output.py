"""Where ``-o`` points, and how it is written: the team's output rule, in rget's own small copy (no dockit).

- ``-`` is stdout; a FIFO, character or block device or socket is opened and written through, in order.
- A regular file or a path that does not exist yet is replaced atomically (``PATH.part`` renamed onto it).
- A symlink is followed: its target is replaced atomically, the link stays.
- ``DIR/`` (an existing directory, slash included) or no ``-o`` at all: saved into DIR (or the current
  directory) under the name the server gives (Content-Disposition) or the last segment of the final URL, never
  replacing an existing file without ``-f``.
- A directory without the slash is a usage error: ``-o build`` meaning "into build/" or "a file called build"
  is a guess rget does not make; the message says to add the slash.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import unquote, urlsplit

from rget.errors import RgetError, UsageError
from rget.remote import Remote

_SIDE = ".part.state.tmp"
"""The longest suffix rget adds to the output's name for a file beside it (the resume state, while it is saved)."""
_MAX_NAME = 255 - len(_SIDE)


class Destination(NamedTuple):
    """What ``-o`` said, decided before the first request (for ``into`` the file name waits for the answer)."""

    kind: Literal["file", "stream", "into"]
    path: Path | None
    """``file``: the real path to replace (symlinks resolved); ``stream``: the path to open (None: stdout);
    ``into``: the directory."""
    shown: str

    def file_in(self, remote: Remote, force: bool) -> Path:
        """For ``into``: the path under the server's name; an existing file is refused unless ``force``."""
        assert self.kind == "into" and self.path is not None
        name = file_name(remote)
        if name is None:
            raise RgetError(f"{remote.url}: the URL names no file (no last path segment): give -o PATH")
        path = self.path / name
        if not force and os.path.lexists(path):
            raise RgetError(f"{path}: exists (rget never replaces a file it named itself: -f to replace, or -o)")
        return path


def destination(arg: str | None) -> Destination:
    """Classify ``-o`` by what is on disk now.

    >>> destination("-")
    Destination(kind='stream', path=None, shown='stdout')
    >>> destination("/dev/null").kind
    'stream'
    """
    if arg is None:
        return Destination("into", Path("."), ".")
    if arg == "-":
        return Destination("stream", None, "stdout")
    path = Path(arg)
    if arg.endswith("/"):
        if path.is_dir():
            return Destination("into", path, arg)
        raise UsageError(f"{arg}: no such directory")
    real = Path(os.path.realpath(path))  # a symlink (or a chain of them) is followed to the file it names
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        if not real.parent.is_dir():  # said now, before any request, not as "cannot write" after the download
            raise RgetError(f"{arg}: no such directory: {real.parent}") from None
        _check_room(real, arg)
        return Destination("file", real, arg)
    except OSError as e:
        raise RgetError(f"{arg}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{arg}: is a directory (to save into it under the URL's file name: -o {arg}/)")
    if stat.S_ISREG(mode):
        _check_room(real, arg)
        return Destination("file", real, arg)
    return Destination("stream", real, arg)  # FIFO, device, socket: never replaced, written through


def _check_room(path: Path, shown: str) -> None:
    """A file output gets NAME.part and NAME.part.state beside it: their names must fit the file system too."""
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(path.name + _SIDE)) > limit:
        raise UsageError(
            f"{shown}: name too long for the {path.name[:20]}...{_SIDE} file rget writes beside it"
            f" (at most {limit - len(_SIDE)} bytes)"
        )


def open_stream(dest: Destination) -> int:
    """The descriptor to write a stream to (stdout's is not ours to close)."""
    if dest.path is None:
        return 1
    try:
        return os.open(dest.path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise RgetError(f"{dest.shown}: cannot write: {e.strerror or e}") from None


def sanitise(name: str) -> str | None:
    """A name safe to create in the current directory: its last component, no control characters.

    >>> sanitise("../../etc/passwd"), sanitise("a\\\\b.exe"), sanitise(".."), sanitise("x\\x1b[2J.bin")
    ('passwd', 'b.exe', None, 'x[2J.bin')
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if name in ("", ".", ".."):
        return None
    while len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME:
        name = name[:-1]
    return name


def file_name(remote: Remote) -> str | None:
    """The server's name for the file: Content-Disposition, else the final URL's last segment, else the URL's.

    >>> r = Remote("https://github.com/o/r/releases/download/v1/tool.tar.gz", "https://objects.example/1a2b3c",
    ...            10, None, None, True, filename="tool-v1.tar.gz")
    >>> file_name(r)
    'tool-v1.tar.gz'
    >>> file_name(Remote("https://h/dl/tool%20x.zip?sig=1", "https://h/dl/tool%20x.zip?sig=1", 1, None, None, True))
    'tool x.zip'
    """
    if remote.filename and (name := sanitise(remote.filename)):
        return name
    for url in (remote.final_url, remote.url):
        segment = urlsplit(url).path.rsplit("/", 1)[-1]
        if name := sanitise(unquote(segment)):
            return name
    return None


def part_paths(path: Path) -> tuple[Path, Path]:
    """The part file and the resume state beside ``path``."""
    return path.with_name(path.name + ".part"), path.with_name(path.name + ".part.state")


def move_into_place(part: Path, path: Path, *, replace: bool) -> None:
    """Rename the finished part onto ``path``; without ``replace`` an existing file there is an error (link, not
    rename: two runs naming the same file cannot overwrite each other)."""
    try:
        if replace:
            os.replace(part, path)
            return
        os.link(part, path)
        part.unlink()
    except FileExistsError:
        raise RgetError(f"{path}: exists (rget never replaces a file it named itself: -f to replace, or -o)") from None
    except OSError as e:
        raise RgetError(f"{path}: cannot write: {e.strerror or e}") from None
