"""rget against servers that misbehave as hypothesis draws them (tests/hostile/scripted_server.py), and the
properties every run must keep.

A case is a script of answers plus rget's flags. Whatever the server does, rget ends within a time bound, and:

- exit 0, nothing on stderr (``-q``), and the file at ``-o`` is exactly one version of the file (with ``--sha256``:
  exactly the version the hash names); or
- exit 1 with one line ``rget: ...`` on stderr (no traceback, no raw control character from the server), and at
  ``-o`` whatever was there before, untouched; a ``.part`` with its ``.part.state`` only when the line says
  "rerun with -c" — then the bytes the state calls done are the version its validators name, and ``rget -c``
  against a well-behaved server finishes that very version;
- nothing else written: not beside the output, not in the working directory.

Most cases run in-process through :func:`rget.cli.main` (no start-up cost); ``via_script`` runs the installed
``rget`` console script under the limits of tests/hostile/runner.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from hypothesis import strategies as st

from tests.hostile.generators import Finding
from tests.hostile.scripted_server import Answer, Script, Server, version_bytes

TIMEOUT = 0.5  # rget's --timeout in every case: a stall (0.8 s) is past it, a drip's gaps (0.05 s) are not
SIZES = [0, 1, 1000, 65_536, 65_537, 200_000, 300_001]
_STATUS = [204, 304, 400, 403, 404, 410, 412, 416, 429, 500, 503, 100, 199, 599, 999]
_REASONS = ["OK", "", "\x1b[2J\x1b[31mEVIL", "Gone\u202e", "é" * 40]
_NAMES = ["../../evil.bin", "a\x1b[2Jb.bin", "x" * 300 + ".bin", "..", "", "/etc/passwd", "dir\\win.exe"]
_NAMES += ["ok.tar.gz", "é" * 200, ".hidden", "file.bin", "a/b/../c", " ", "\u202egnp.exe"]
_RAW = [
    b"",
    b"HTTP/1.1 200 OK\r\n",
    b"garbage\r\n\r\n",
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"ICY 200 OK\r\n\r\n",
    b"hello world",
    b"HTTP/1.1 2" + b"0" * 70_000 + b" OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
    b"HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-4/5\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"\x00\xff" * 10,
]


def _disposition(name: str, star: bool) -> bytes:
    """A Content-Disposition header value naming ``name``: plain (as raw bytes) or RFC 5987 (percent-encoded)."""
    if star:
        return b"attachment; filename*=UTF-8''" + quote(name, safe="").encode()
    return b'attachment; filename="' + name.encode("utf-8", "surrogateescape") + b'"'


def _answer(slow: bool) -> st.SearchStrategy[Answer]:
    bodies = ["full"] * 6 + ["cut", "cut", "corrupt"] + (["drip", "stall"] if slow else [])
    files = st.builds(
        Answer,
        kind=st.just("file"),
        reason=st.sampled_from(_REASONS[:1] * 4 + _REASONS),
        range_mode=st.sampled_from(["honour"] * 6 + ["ignore", "relabel", "offset", "total", "no_cr", "bad_cr"]),
        shift=st.integers(1, 70_000),
        version=st.sampled_from([1, 1, 1, 2]),
        etag=st.sampled_from(["version"] * 4 + ["none", "weak", "unique", "other"]),
        modified=st.sampled_from(["version", "version", "none", "other"]),
        length=st.sampled_from(["exact"] * 6 + ["absent", "short", "long", "garbage", "two", "chunked"]),
        body=st.sampled_from(bodies),
        cut=st.integers(0, 400_000),
        extra=st.sampled_from([""] * 12 + ["huge", "many", "badbytes", "nocolon", "fold"]),
        disposition=st.just(b"") | st.builds(_disposition, st.sampled_from(_NAMES), st.booleans()),
        close=st.booleans(),
    )
    redirects = st.builds(
        Answer,
        kind=st.just("redirect"),
        status=st.sampled_from([301, 302, 303, 307, 308]),
        location=st.sampled_from(["self", "next", "next", "bad", "closed", "relative", "empty", "ftp", "long"]),
        close=st.booleans(),
    )
    statuses = st.builds(
        Answer, kind=st.just("status"), status=st.sampled_from(_STATUS), reason=st.sampled_from(_REASONS)
    )
    raws = st.builds(Answer, kind=st.just("raw"), raw=st.sampled_from(_RAW))
    return st.one_of(files, files, files, redirects, statuses, raws)


@dataclass(frozen=True)
class HttpCase:
    sizes: tuple[int, int]
    seed: int
    answers: tuple[Answer, ...]
    honest: bool
    """No --sha256: the server keeps to lies a client can catch (Script.honest)."""
    connections: int
    block: bool
    """-b 0.0625: 64 KiB ranges, so a 300 KB file is five of them."""
    retries: int
    existing: bool
    """An older file already at -o: a failure must leave it as it was."""
    into: bool = False
    """-o DIR/: rget names the file (Content-Disposition, else the URL's last segment, here file.bin)."""
    stream: bool = False
    """-o -: the bytes go to stdout, in order (only through the installed script, which has a stdout of its own)."""

    def versions(self) -> tuple[bytes, bytes]:
        return version_bytes(self.seed, self.sizes[0]), version_bytes(self.seed + 1, self.sizes[1])

    def args(self, url: str, out: Path) -> list[str]:
        """rget's command line; ``out`` is the output file (with ``into``: its directory gets it)."""
        target = "-" if self.stream else f"{out.parent}/" if self.into else str(out)
        args = [url, "-o", target, "-q", "-P", str(self.connections), "--retries", str(self.retries)]
        args += ["--timeout", str(TIMEOUT)] + (["-b", "0.0625"] if self.block else [])
        if not self.honest:
            args += ["--sha256", hashlib.sha256(self.versions()[0]).hexdigest()]
        return args

    def time_bound(self) -> float:
        """Seconds rget may take: every attempt (the first answer's, each range's, a restarted stream's) may wait
        out a stall and a backoff, and each needs a connection; a generous multiple, for a loaded machine."""
        attempts = (self.retries + 1) * (2 + self.connections * (5 if self.block else 1))
        return 10 + attempts * (0.8 + 0.4) / min(self.connections, 2)


@st.composite
def http_case(draw: st.DrawFn, slow: bool = True, max_answers: int = 4, stream: bool = False) -> HttpCase:
    """A server's script and rget's flags; ``slow`` admits drips and stalls (each costs up to a second); ``stream``:
    ``-o -`` (for the installed script only)."""
    return HttpCase(
        sizes=(draw(st.sampled_from(SIZES)), draw(st.sampled_from(SIZES))),
        seed=draw(st.integers(0, 2**16)),
        answers=tuple(draw(st.lists(_answer(slow), min_size=1, max_size=max_answers))),
        honest=draw(st.booleans()),
        connections=draw(st.sampled_from([1, 2, 4])),
        block=draw(st.booleans()),
        retries=draw(st.sampled_from([0, 1, 2])),
        existing=draw(st.booleans()),
        into=draw(st.booleans()),
        stream=stream,
    )


_server: Server | None = None
_server_lock = threading.Lock()


def server() -> Server:
    """The one scripted server of this process (started on first use)."""
    global _server
    with _server_lock:
        if _server is None:
            _server = Server()
        return _server


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    seconds: float
    left: tuple[str, ...] = ()
    """What the output directory holds afterwards (filled in by :func:`check`)."""
    stdout: bytes = b""


def in_process(args: list[str], cwd: Path, bound: float) -> Outcome:
    """``rget ARGS`` through rget's own entry point, in a thread (a hang past ``bound`` is reported, not waited
    out), stderr captured; an exception escaping main or reaching a thread's excepthook is a finding."""
    from rget.cli import main

    result: dict[str, object] = {}
    escaped: list[str] = []
    err = io.StringIO()

    def hook(info: threading.ExceptHookArgs) -> None:
        escaped.append(f"{info.exc_type.__name__} in thread {info.thread.name if info.thread else '?'}")

    def run() -> None:
        try:
            main(args)
        except SystemExit as e:
            result["code"] = e.code
        except BaseException as e:
            result["exc"] = f"{type(e).__name__}: {e}"

    previous_hook, previous_cwd = threading.excepthook, os.getcwd()
    threading.excepthook = hook
    os.chdir(cwd)
    started = time.monotonic()
    try:
        with contextlib.redirect_stderr(err):
            thread = threading.Thread(target=run, name="rget-main", daemon=True)
            thread.start()
            thread.join(bound)
            seconds = time.monotonic() - started
    finally:
        os.chdir(previous_cwd)
        threading.excepthook = previous_hook
    if thread.is_alive():
        raise Finding(f"rget still running after {bound:.0f} s")
    if "exc" in result:
        raise Finding(f"traceback: {result['exc']}")
    if escaped:
        raise Finding(f"an exception escaped a thread: {escaped[0]}")
    code = result.get("code")
    return Outcome(code if isinstance(code, int) else (0 if code is None else 1), err.getvalue(), seconds)


def via_script(args: list[str], cwd: Path, bound: float) -> Outcome:
    """``rget ARGS`` through the installed console script, under runner.py's CPU/RSS limits."""
    from tests.hostile.runner import run

    started = time.monotonic()
    result = run("rget", *args, cwd=cwd)
    seconds = time.monotonic() - started
    if result.stdout and "-" not in args:
        raise Finding(f"{len(result.stdout)} bytes on stdout")
    try:
        result.check_limits()
    except AssertionError as e:
        raise Finding(f"over the limits: {e}") from None
    return Outcome(result.code, result.stderr, seconds, stdout=result.stdout)


OLD = b"the file that was here before\n"


def check(case: HttpCase, *, script: bool = False) -> Outcome:
    """Run one case; raise :class:`Finding` when a property fails, else return how rget ended."""
    if case.stream and not script:
        raise ValueError("a stream case needs the installed script (in-process, stdout is the test's)")
    versions = case.versions()
    srv = server()
    url = srv.add(Script(versions, case.answers, case.honest))
    with tempfile.TemporaryDirectory(prefix="rget-hostile-") as tmp:
        out_dir, cwd = Path(tmp, "out"), Path(tmp, "cwd")
        out_dir.mkdir()
        cwd.mkdir()
        out = out_dir / "file.bin"
        if case.existing:
            out.write_bytes(OLD)
        runner = via_script if script else in_process
        outcome = runner(case.args(url, out), cwd, case.time_bound())
        _check_outcome(case, outcome, versions, out)
        outcome = replace(outcome, left=tuple(sorted(p.name for p in out_dir.iterdir())))
        if list(cwd.iterdir()):
            raise Finding(f"wrote into the working directory: {sorted(p.name for p in cwd.iterdir())}")
        allowed = versions if case.honest else versions[:1]
        if case.stream:
            _check_stream(case, outcome, allowed, versions)
        new = sorted(p.name for p in out_dir.iterdir() if not (case.existing and p.name == "file.bin"))
        for name in new:
            if _UNSAFE.search(name) or len(name.encode("utf-8", "surrogateescape")) > 255 or name in (".", ".."):
                raise Finding(f"a file named {name!r}")
        if case.existing and not (outcome.code == 0 and not case.into and not case.stream) and out.read_bytes() != OLD:
            raise Finding("the file that was at -o changed" + (" (rget named it: no -f)" if case.into else ""))
        if case.stream:
            if new:
                raise Finding(f"a stream left {new}")
            return outcome
        if outcome.code == 0:
            made = new if case.into else sorted(p.name for p in out_dir.iterdir())
            if len(made) != 1 or (not case.into and made != ["file.bin"]):
                raise Finding(f"exit 0 left {made}")
            got = (out_dir / made[0]).read_bytes()
            if got not in allowed:
                raise Finding(f"exit 0 with a file that is no version: {_describe(got, versions)}")
            return outcome
        if not new:
            return outcome
        name = new[0].removesuffix(".part")
        if new != [f"{name}.part", f"{name}.part.state"] or "rerun with -c" not in outcome.stderr:
            raise Finding(f"a failed run left {new} ({outcome.stderr.strip()!r})")
        if case.honest:
            _check_resumable(case, srv, url, out_dir / name, versions)
        return outcome


def _check_stream(case: HttpCase, outcome: Outcome, allowed: tuple[bytes, ...], versions: tuple[bytes, bytes]) -> None:
    """Exit 0: stdout is one version (the hash's, with --sha256); exit 1: what went out is a prefix of one version
    (bytes already sent cannot be taken back, but two versions are never mixed)."""
    got = outcome.stdout
    if outcome.code == 0 and got not in allowed:
        raise Finding(f"exit 0 with a stream that is no version: {_describe(got, versions)}")
    # a raw answer's body (``Content-Length: 5`` then ``ab`` and a hang-up) is what the server sent, too
    sent = [*versions, *(a.raw.partition(b"\r\n\r\n")[2] for a in case.answers if a.kind == "raw")]
    if outcome.code != 0 and case.honest and not any(v.startswith(got) for v in sent):
        raise Finding(f"a failed stream sent bytes of no one version: {_describe(got, versions)}")


_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _check_outcome(case: HttpCase, outcome: Outcome, versions: tuple[bytes, bytes], out: Path) -> None:
    if outcome.seconds > case.time_bound():
        raise Finding(f"took {outcome.seconds:.1f} s (bound {case.time_bound():.0f} s)")
    err = outcome.stderr
    if "Traceback" in err:
        raise Finding(f"a traceback: {err.strip().splitlines()[-1]!r}")
    if outcome.code == 0:
        if err:
            raise Finding(f"exit 0 with stderr {err[:200]!r}")
        return
    if outcome.code != 1:
        raise Finding(f"exit {outcome.code}: {err[:200]!r}")
    if not (err.startswith("rget: ") and err.endswith("\n") and err.count("\n") == 1):
        raise Finding(f"exit 1 without one line on stderr: {err[:300]!r}")
    if m := _UNSAFE.search(err):
        raise Finding(f"a raw {unicodedata.name(m.group(), hex(ord(m.group())))} on stderr: {err[:200]!r}")
    if len(err) > 2000:
        raise Finding(f"an error line of {len(err)} characters")


def _check_resumable(case: HttpCase, srv: Server, url: str, out: Path, versions: tuple[bytes, bytes]) -> None:
    """The kept part holds only bytes of the version its state names, and ``-c`` finishes exactly that version."""
    part = out.with_name(out.name + ".part")
    state = json.loads(out.with_name(out.name + ".part.state").read_text())
    names = re.findall(r'"v(\d)', str(state.get("etag"))) + re.findall(r":0(\d) GMT", str(state.get("last_modified")))
    if len(set(names)) != 1:
        raise Finding(f"a resume state whose validators name no one version: {state}")
    version = int(names[0])
    data = versions[version - 1]
    kept = part.read_bytes()
    if state["size"] != len(data) or len(kept) != len(data):
        raise Finding(f"a resume state for {state['size']} bytes, part of {len(kept)}, version of {len(data)}")
    done, pos = [], 0
    for start, end in sorted(state["blocks"]):
        done.append((pos, start))
        pos = end + 1
    done.append((pos, len(data)))
    for start, end in done:
        if kept[start:end] != data[start:end]:
            raise Finding(f"the part file's bytes {start}-{end} (done, says its state) are not version {version}")
    # the same URL now answers well, naming the file as before (with -o DIR/, the name is the server's)
    good = Answer(version=version, disposition=b"attachment; filename*=UTF-8''" + quote(out.name, safe="").encode())
    srv.scripts[int(url.split("/e")[1].split("/")[0])] = Script(versions, (good,), True)
    before = sorted(p.name for p in out.parent.iterdir())
    outcome = in_process([*case.args(url, out), "-c"], out.parent.parent / "cwd", case.time_bound())
    if outcome.code != 0 or out.read_bytes() != data:
        raise Finding(f"rget -c against a good server: exit {outcome.code}, {outcome.stderr.strip()!r}")
    after = sorted(p.name for p in out.parent.iterdir())
    if sorted({*before, out.name} - {f"{out.name}.part", f"{out.name}.part.state"}) != after:
        raise Finding(f"rget -c left {after}")


def _describe(got: bytes, versions: tuple[bytes, bytes]) -> str:
    sizes = "/".join(str(len(v)) for v in versions)
    for i, v in enumerate(versions, 1):
        if got and v.startswith(got):
            return f"{len(got)} bytes, a prefix of version {i} (versions: {sizes} bytes)"
    return f"{len(got)} bytes (versions: {sizes} bytes)"
