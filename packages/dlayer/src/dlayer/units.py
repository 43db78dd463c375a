"""Byte sizes as dive writes and reads them (go-humanize: SI units, ``83 MB``, ``2.9 kB``)."""

from __future__ import annotations

import re

_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
_PARSE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")
_FACTORS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "kib": 2**10, "ki": 2**10,
    "m": 10**6, "mb": 10**6, "mib": 2**20, "mi": 2**20,
    "g": 10**9, "gb": 10**9, "gib": 2**30, "gi": 2**30,
    "t": 10**12, "tb": 10**12, "tib": 2**40, "ti": 2**40,
}  # fmt: skip


def human(size: int) -> str:
    """go-humanize's ``Bytes``: one decimal below 10, none above.

    >>> human(4), human(2974470), human(305006)
    ('4 B', '3.0 MB', '305 kB')
    """
    if size < 10:
        return f"{size} B"
    exp = 0
    value = float(size)
    while value >= 1000 and exp < len(_UNITS) - 1:
        value /= 1000
        exp += 1
    value = round(value * 10) / 10 if value < 10 else value
    return f"{value:.1f} {_UNITS[exp]}" if value < 10 else f"{value:.0f} {_UNITS[exp]}"


def parse_size(text: str) -> int:
    """go-humanize's ``ParseBytes`` for the common forms: ``1000``, ``20MB``, ``1.5 GiB``.

    >>> parse_size("20MB"), parse_size("1 KiB")
    (20000000, 1024)
    """
    m = _PARSE.match(text)
    if not m or m.group(2).lower() not in _FACTORS:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _FACTORS[m.group(2).lower()])
