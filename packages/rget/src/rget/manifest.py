"""``-i FILE``: many downloads sharing one connection budget, each verified and placed on its own.

A manifest line is ``URL``, ``URL PATH`` or ``URL PATH SHA256`` (``#`` comments and blank lines skipped). ``-P`` is the
total number of connections, ``--per-file`` each file's share, so ``-P / --per-file`` files download at once. A
failure is reported (one line) and the others finish; the exit code is 1 if any failed. ``--checksums`` takes a
``SHA256SUMS``-style file (``HEX  NAME`` or ``HEX *NAME``, as ``sha256sum`` writes and GitHub releases publish) and
verifies each download against the line naming its file.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rget.errors import RgetError, UsageError
from rget.options import Options
from rget.progress import Reporter
from rget.redact import redact_text
from rget.remote import url_problem

MAX_TEXT = 16 * 1024 * 1024
"""Bytes a manifest or checksums file may have (a release's SHA256SUMS for hundreds of assets is a few KiB): a
server or a ``-i /dev/zero`` cannot fill the memory."""
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


@dataclass(frozen=True)
class Entry:
    """One manifest line."""

    url: str
    path: str | None
    sha256: str | None
    line: int


def parse(text: str, source: str) -> list[Entry]:
    """The entries of a manifest; a bad line is a usage error naming ``source:line``.

    >>> parse("# assets\\nhttps://h/a.tgz\\nhttps://h/b b.bin " + "0" * 64 + "\\n", "m.txt")[1].path
    'b.bin'
    >>> parse("ftp://h/a", "m.txt")
    Traceback (most recent call last):
    rget.errors.UsageError: m.txt:1: ftp://h/a: only http:// and https:// URLs
    """
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) > 3:
            raise UsageError(f"{source}:{number}: expected 'URL [PATH [SHA256]]', got {len(fields)} fields")
        url = fields[0]
        if problem := url_problem(url):
            raise UsageError(f"{source}:{number}: {url}: {problem}")
        sha = fields[2] if len(fields) == 3 else None
        if sha is not None and not _HEX.match(sha):
            raise UsageError(f"{source}:{number}: the third field must be a SHA-256 (64 hex digits)")
        entries.append(Entry(url, fields[1] if len(fields) > 1 else None, sha.lower() if sha else None, number))
    return entries


def parse_checksums(text: str) -> dict[str, str]:
    """``NAME -> hex`` from ``sha256sum`` output (names reduced to their last component).

    >>> sums = parse_checksums("%s  dist/tool.tar.gz\\n%s *tool.zip\\n" % ("a" * 64, "B" * 64))
    >>> sorted(sums), sums["tool.zip"] == "b" * 64
    (['tool.tar.gz', 'tool.zip'], True)
    """
    sums = {}
    for line in text.splitlines():
        if m := _SUM_LINE.match(line.strip()):
            sums[m.group(2).strip().rsplit("/", 1)[-1]] = m.group(1).lower()
    return sums


def read_text(source: str, opts: Options, what: str) -> str:
    """A manifest or checksums file: a path, ``-`` (stdin), or an http(s) URL (fetched with ``-H`` headers); at most
    :data:`MAX_TEXT` bytes."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_TEXT + 1)
    elif re.match(r"^https?://", source, re.IGNORECASE):
        data = _fetch_text(source, opts)
    else:
        try:
            with open(source, "rb") as f:
                data = f.read(MAX_TEXT + 1)
        except OSError as e:
            raise UsageError(f"{source}: cannot read the {what}: {e.strerror or e}") from None
    if len(data) > MAX_TEXT:
        shown = "stdin" if source == "-" else source
        raise RgetError(f"{shown}: larger than {MAX_TEXT >> 20} MiB (the limit for a {what} file)")
    return data.decode("utf-8", "replace")


def _fetch_text(url: str, opts: Options) -> bytes:
    import requests

    from rget.remote import new_session, send
    from rget.wire import describe

    try:
        resp, _ = send(new_session(1), url, original=url, headers=opts.headers, timeout=opts.timeout)
        with resp:
            if resp.status_code != 200:
                raise RgetError(f"{url}: HTTP {resp.status_code} {resp.reason or ''}".rstrip())
            data = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_TEXT:
                    break
            return bytes(data)
    except requests.RequestException as e:
        raise RgetError(f"{url}: {describe(e, opts.timeout)}") from None


def entry_name(url: str, path: str | None) -> str:
    """The file name a checksums line would use for this download."""
    if path:
        return Path(path).name
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def expected_sha(entry: Entry, sums: dict[str, str] | None) -> str | None:
    """The hash to verify: the manifest's own column first, else the checksums line naming the file."""
    if entry.sha256 or sums is None:
        return entry.sha256
    name = entry_name(entry.url, entry.path)
    if name not in sums:
        raise RgetError(f"{entry.url}: {name!r} is not in the checksums file")
    return sums[name]


def run(
    entries: list[Entry],
    opts: Options,
    per_file: int,
    into: str | None,
    *,
    sums: dict[str, str] | None = None,
    verbose: bool = False,
) -> int:
    """Download every entry, ``opts.connections // per_file`` at a time; returns how many failed."""
    from rget.download import download

    per_file = max(1, min(per_file, opts.connections))
    slots = threading.Semaphore(max(1, opts.connections // per_file))
    failures: list[str] = []
    lock = threading.Lock()

    def one(entry: Entry) -> None:
        try:
            sha = expected_sha(entry, sums)
            reporter = Reporter(verbose=verbose)
            reporter.bar = False  # many files at once: -v lines, no bars fighting over one terminal
            target = entry.path if entry.path is not None else into
            download(entry.url, target, opts.replace(connections=per_file, sha256=sha), reporter)
        except RgetError as e:
            message = str(e) if str(e).startswith(entry.url) else f"{entry.url}: {e}"
            with lock:
                failures.append(message)
                print(f"rget: {redact_text(message)}", file=sys.stderr, flush=True)
        except Exception as e:  # one broken download must not take the others down
            with lock:
                failures.append(f"{entry.url}: {e}")
                print(f"rget: {redact_text(entry.url)}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        finally:
            slots.release()

    threads = []
    for entry in entries:
        slots.acquire()
        t = threading.Thread(target=one, args=(entry,), name=f"rget-file-{entry.line}", daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        while t.is_alive():
            t.join(0.1)  # timed: Ctrl-C reaches the main thread
    if failures and len(entries) > 1:
        print(f"rget: {len(failures)} of {len(entries)} downloads failed", file=sys.stderr, flush=True)
    return len(failures)
