"""Hypothesis generators of hostile input for every parser-facing entry point, and the checks each input must pass.

The same generators serve the in-suite property tests (tests/hostile/test_hostile_properties.py, small and quick)
and ``make fuzz`` (tests/hostile/fuzz.py: longer, larger, under prlimit). A *target* takes one generated input and
raises :class:`Finding` (or anything but a DockitError) when the code under test misbehaves.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from dockit.errors import DockitError
from dockit.limits import MAX_DOCKERFILE_BYTES

# --- Dockerfiles ---------------------------------------------------------------------------------------------------

_NAMES = ["s0", "s1", "build", "B", "x.y", "1", "0", "00", "\u00b2", "\u0663", "9" * 40, "a\x1b[2J", ""]
_FLAGS = [
    "--from=s0",
    "--from=s1",
    "--from=0",
    "--from=1",
    "--from=7",
    "--from=" + "1" * 5000,
    "--from=\u00b2",
    "--from=$X",
    "--mount=type=bind,from=s0,target=/m",
    "--mount=from=" + "2" * 50,
    "--mount=type=cache,target=/c",
    "--platform=$BUILDPLATFORM",
    "--chmod=755",
    "--link",
    "--\U000f7157=1",
    "--\u01c5",
    "--network=none",
    "--interval=\u01c5",
]
_KEYWORDS = ["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "CMD", "ENTRYPOINT", "ONBUILD", "HEALTHCHECK"]
_KEYWORDS += ["WORKDIR", "USER", "SHELL", "EXPOSE", "VOLUME", "STOPSIGNAL", "MAINTAINER", "from", "Run", "NOPE"]
_ARGS = [
    "echo hi",
    "a b",
    "/a /b",
    '["sh", "-c", "x"]',
    '["unterminated',
    "<<EOF",
    "<<-'E O F' cat",
    '<<"EOF" <<X',
    "A=1 B='two words'",
    "${A:-${B:-x}}",
    "$" + "{A:-" * 30,
    "\x1b[2J\x1b[31mEVIL",
    "\u202eevil",
    "x" * 300,
    "\\",
    "`",
    "CMD echo",
    "RUN x",
]
_SPECIAL_LINES = [
    "",
    "# comment",
    "# escape=`",
    "# syntax=docker/dockerfile:1",
    "#check=skip=all",
    "EOF",
    "\tEOF",
    "X",
    "  \\",
    "\\",
    "`",
    "\x00",
    "\ufeffFROM a",
    " " * 10,
]


@st.composite
def _instruction(draw: st.DrawFn) -> str:
    keyword = draw(st.sampled_from(_KEYWORDS))
    flags = draw(st.lists(st.sampled_from(_FLAGS), max_size=2))
    args = draw(st.lists(st.sampled_from(_ARGS) | st.text(max_size=12), max_size=3))
    if keyword.upper() == "FROM" and draw(st.booleans()):
        args = [draw(st.sampled_from(["scratch", "alpine", *_NAMES])), "AS", draw(st.sampled_from(_NAMES))]
    line = " ".join([keyword, *flags, *args])
    return line + (" \\" if draw(st.integers(0, 5)) == 0 else "")


_LINE = _instruction() | st.sampled_from(_SPECIAL_LINES) | st.text(max_size=30)


@st.composite
def dockerfile_text(draw: st.DrawFn, max_lines: int = 30, max_repeat: int = 1) -> str:
    """A Dockerfile made of plausible and hostile lines; ``max_repeat`` > 1 repeats a line (scale: the limits)."""
    lines = ["FROM s0 AS s0"] if draw(st.booleans()) else []
    budget = 2 * MAX_DOCKERFILE_BYTES  # past the size limit, but not so far that drawing fills the memory
    for line in draw(st.lists(_LINE, max_size=max_lines)):
        repeat = draw(st.integers(1, max_repeat)) if max_repeat > 1 and draw(st.integers(0, 9)) == 0 else 1
        repeat = max(0, min(repeat, budget // (len(line) + 1)))
        budget -= repeat * (len(line) + 1)
        lines.extend([line] * repeat)
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


@st.composite
def dockerfile_bytes(draw: st.DrawFn, max_lines: int = 30, max_repeat: int = 1) -> bytes:
    """:func:`dockerfile_text` as bytes, sometimes cut mid-character or with bytes overwritten."""
    data = draw(dockerfile_text(max_lines, max_repeat)).encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 2))):
        if not data:
            break
        at = draw(st.integers(0, len(data)))
        data = (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc7", b"\xf3\xb7", b"\x00", b"\xed\xa0\x80", b""]))
            + data[at:]
        )
    return data


# --- .dockerignore -------------------------------------------------------------------------------------------------

_IGNORE_ATOMS = ["*", "**", "?", "[a-z]", "[", "[^]", "\\", "!", "..", ".", "/", "node_modules", "a b", "\x1b", "#"]
dockerignore_text = st.lists(
    st.lists(st.sampled_from(_IGNORE_ATOMS) | st.text(max_size=5), max_size=6).map("".join), max_size=20
).map("\n".join)
ignore_paths = st.lists(st.sampled_from(["a", "b", "node_modules", ".", "..", "a b", "x.go", "[", "*"]), max_size=5)

# --- image JSON documents and archives -----------------------------------------------------------------------------

_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
json_value = st.recursive(
    _JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_CONFIG_KEYS = ["rootfs", "diff_ids", "history", "created_by", "empty_layer", "os", "architecture", "variant"]


@st.composite
def config_document(draw: st.DrawFn) -> Any:
    """An image config whose fields have the right names and any types."""
    doc: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(_CONFIG_KEYS), max_size=5)):
        doc[key] = draw(json_value)
    if draw(st.booleans()):
        doc["rootfs"] = {"diff_ids": draw(json_value | st.lists(st.text(max_size=5), max_size=3))}
    if draw(st.booleans()):
        doc["history"] = draw(st.lists(st.dictionaries(st.sampled_from(_CONFIG_KEYS), json_value), max_size=3))
    return doc


@st.composite
def json_document(draw: st.DrawFn) -> bytes:
    """JSON text: any value, a config-like object, deep nesting, or broken bytes."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return json.dumps(draw(json_value)).encode()
    if kind == 1:
        return json.dumps(draw(config_document())).encode()
    if kind == 2:
        depth = draw(st.integers(1, 3000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        return opener * depth + b"1" + closer * draw(st.integers(0, depth))
    raw = json.dumps(draw(config_document())).encode()
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + draw(st.sampled_from([b"\xff", b",", b"]", b'"', b"1" * 5000, b""])) + raw[at + 1 :]


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


_LAYER = _tar([("hello.txt", b"hello\n"), ("etc/.wh.x", b"")])
_LAYER_NAME = f"{hashlib.sha256(_LAYER).hexdigest()}/layer.tar"


@st.composite
def image_archive(draw: st.DrawFn) -> bytes:
    """A docker-save or OCI-layout tar whose documents are generated, sometimes with bytes cut or overwritten."""
    if draw(st.booleans()):
        manifest = [{"Config": "config.json", "RepoTags": ["t:1"], "Layers": [_LAYER_NAME]}]
        manifest_doc = json.dumps(manifest).encode() if draw(st.booleans()) else draw(json_document())
        config = draw(json_document())
        data = _tar([(_LAYER_NAME, _LAYER), ("config.json", config), ("manifest.json", manifest_doc)])
    else:
        blob = draw(json_document())
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        index = {
            "manifests": [
                {
                    "digest": digest,
                    **draw(
                        st.dictionaries(
                            st.sampled_from(["platform", "annotations", "mediaType"]), json_value, max_size=2
                        )
                    ),
                }
            ]
        }
        index_doc = json.dumps(index).encode() if draw(st.booleans()) else draw(json_document())
        members = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index_doc)]
        data = _tar([*members, (f"blobs/sha256/{digest[7:]}", blob)])
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at + draw(st.integers(0, 600)) :]
    return data


# --- targets: one input in, a Finding out when the code misbehaves ---------------------------------------------------


class Finding(Exception):
    """The code under test misbehaved on an input (a traceback would have reached the user)."""


def _one_line(e: DockitError) -> None:
    text = str(e)
    if "\n" in text or "\x1b" in text or len(text) > 2000:
        raise Finding(f"{type(e).__name__} not one safe line: {text[:200]!r}")


def dockerfile_target(data: bytes) -> None:
    """Every Dockerfile tool's core on one input: parse, targd's prune and reports, minid, castage's plan, dignore."""
    from castage.plan import plan_stages
    from dignore.infer import context_uses
    from dockit.dockerfile import parse
    from dockit.merge import minify
    from targd import report
    from targd.prune import prune

    try:
        df = parse(data)
    except DockitError as e:
        _one_line(e)
        return
    if str(df) != df.source:
        raise Finding("the model does not give back the source text")
    steps: list[Callable[[], object]] = [
        lambda: prune(df),
        lambda: report.stage_graph(df, df.stages[-1], df.closure(None)),
        lambda: report.stage_json(df, df.stages[-1], df.closure(None), {}),
        lambda: minify(data),
        lambda: plan_stages(df),
        lambda: context_uses(data),
    ]
    for step in steps:
        try:
            step()
        except DockitError as e:
            _one_line(e)


def dockerignore_target(case: tuple[str, list[str]]) -> None:
    from dockit.ignore import PatternMatcher, read_ignorefile

    text, paths = case
    try:
        matcher = PatternMatcher(read_ignorefile(text.encode("utf-8", "surrogatepass")), path=".dockerignore")
    except DockitError as e:
        _one_line(e)
        return
    for path in paths:
        matcher.matches("/".join(paths[: paths.index(path) + 1]) or ".")


def json_target(data: bytes) -> None:
    from dockit.archive.documents import config_history, config_layers, load

    try:
        doc = load(data, "image config", "x.tar")
        if isinstance(doc, dict):
            config_history(doc, "image config", "x.tar")
            config_layers(doc, "image config", "x.tar")
    except DockitError as e:
        _one_line(e)


def archive_target(data: bytes) -> None:
    from dockit.archive.reader import read_image

    try:
        read_image(io.BytesIO(data))
    except DockitError as e:
        _one_line(e)


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], object]


def targets(scale: int = 1) -> list[Target]:
    """Every parser-facing entry point with its generator; ``scale`` > 1 draws bigger inputs (``make fuzz``)."""
    from tests.hostile import http_cases

    http = http_cases.http_case(slow=scale > 1, max_answers=4 if scale == 1 else 8)
    return [
        Target("dockerfile", dockerfile_bytes(30 * scale, 1 if scale == 1 else 3000), dockerfile_target),
        Target("dockerignore", st.tuples(dockerignore_text, ignore_paths), dockerignore_target),
        Target("json", json_document(), json_target),
        Target("archive", image_archive(), archive_target),
        Target("http", http, http_cases.check),  # rget against a server whose answers are drawn
    ]
