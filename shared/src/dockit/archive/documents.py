"""The JSON documents of an image (manifest.json, index.json, manifests, configs): read within limits, and checked
field by field, so a hostile or broken one is one line naming the document and the field, never a traceback.

>>> load(b'{"rootfs": {"diff_ids": 7}}', "image config", "x.tar")["rootfs"]
{'diff_ids': 7}
>>> config_layers({"rootfs": {"diff_ids": 7}}, "image config", "x.tar")
Traceback (most recent call last):
dockit.errors.ArchiveError: x.tar: image config: rootfs.diff_ids is a number, not a list
>>> load(b"[" * 100 + b"]" * 100, "manifest.json", "x.tar")
Traceback (most recent call last):
dockit.errors.ArchiveError: x.tar: manifest.json is nested too deeply (more than 64 levels)
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from dockit.errors import ArchiveError
from dockit.limits import MAX_JSON_BYTES, MAX_JSON_DEPTH, size

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


def load(data: bytes | None, what: str, label: str) -> Any:
    """Parse the document ``what`` (``manifest.json``, ``image config ...``) of the archive ``label``."""
    if data is None:
        raise ArchiveError(f"missing {what}", path=label)
    if len(data) > MAX_JSON_BYTES:
        raise ArchiveError(f"{what} is larger than {size(MAX_JSON_BYTES)} (the limit)", path=label)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ArchiveError(
            f"{what} is not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})", path=label
        ) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise ArchiveError(f"{what} is nested too deeply (more than {MAX_JSON_DEPTH} levels)", path=label)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ArchiveError(
            f"{what} is not valid JSON: {e.msg.lower()} at line {e.lineno} column {e.colno}", path=label
        ) from None
    except ValueError:  # json reads integers with int(), which refuses more than 4,300 digits
        raise ArchiveError(f"{what} holds a number too long to read", path=label) from None


def _depth(data: bytes) -> int:
    """The deepest bracket nesting outside strings, in C-speed passes (json's own reader would recurse into it)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0)


def kind(value: object) -> str:
    """How a message names a JSON value's type.

    >>> kind(7), kind("x"), kind(None), kind([])
    ('a number', 'a string', 'null', 'a list')
    """
    return "null" if value is None else _KINDS.get(type(value), type(value).__name__)


def expect(value: Any, want: type, what: str, label: str, where: str) -> Any:
    """``value`` when it is a ``want`` (dict, list, str); else an ArchiveError naming the document and field."""
    if isinstance(value, want) and not (want is int and isinstance(value, bool)):
        return value
    raise ArchiveError(f"{what}: {where} is {kind(value)}, not {_KINDS[want]}", path=label)


def field(
    doc: dict[str, Any], key: str, want: type, what: str, label: str, where: str = "", default: Any = None
) -> Any:
    """``doc[key]`` checked to be a ``want``; ``default`` when absent or null."""
    value = doc.get(key)
    if value is None:
        return default
    return expect(value, want, what, label, f"{where}{key}")


def strings(doc: dict[str, Any], key: str, what: str, label: str, where: str = "") -> list[str]:
    """``doc[key]``, a list of strings (empty when absent)."""
    items: list[str] = field(doc, key, list, what, label, where, [])
    for i, item in enumerate(items):
        expect(item, str, what, label, f"{where}{key}[{i}]")
    return items


def config_history(config: dict[str, Any], what: str, label: str) -> list[dict[str, Any]]:
    """The config's ``history`` items (objects; each field is read as text by the model)."""
    items = field(config, "history", list, what, label, default=[])
    return [expect(item, dict, what, label, f"history[{i}]") for i, item in enumerate(items)]


def config_layers(config: dict[str, Any], what: str, label: str) -> list[str]:
    """The config's ``rootfs.diff_ids``: one digest per layer."""
    rootfs = field(config, "rootfs", dict, what, label, default={})
    return strings(rootfs, "diff_ids", what, label, "rootfs.")


def descriptor_platform(descriptor: dict[str, Any], what: str, label: str) -> dict[str, Any]:
    """An index entry's ``platform`` object (empty when absent)."""
    platform: dict[str, Any] = field(descriptor, "platform", dict, what, label, default={})
    return platform
