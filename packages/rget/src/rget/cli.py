"""The rget command line: flags -> one call to :func:`rget.download.download` -> exit code.

rget stands alone (no dockit), so it carries its own small copy of the team's conventions: one line
``rget: message`` on stderr, exit 2 for usage, 1 for a failed download, 130 on Ctrl-C, never a traceback.
The command line is read by :mod:`rget.args` (no typer); typer renders only -h/--help (:mod:`rget.help`);
requests is imported only when a download starts.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

from rget import __version__
from rget.args import HELP_NAMES, VERSION_NAMES, Args, CommandLineError, parse, wants
from rget.errors import ReaderGone, RgetError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from rget.options import Options

MIB = 1024 * 1024
_HEX = frozenset("0123456789abcdefABCDEF")


def parse_headers(values: list[str]) -> dict[str, str]:
    """``-H 'Key: value'`` flags as a dict; one that HTTP cannot carry is a usage error.

    >>> parse_headers(["Authorization: token abc", "Accept:application/octet-stream"])
    {'Authorization': 'token abc', 'Accept': 'application/octet-stream'}
    """
    headers: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key or not key.isascii() or any(c.isspace() for c in key):
            raise UsageError(f"bad header {raw!r}: expected 'Name: value'")
        # http.client sends values as latin-1 and refuses line breaks: say so now, not as a traceback or retries
        if not _latin1(value) or any(c in value for c in "\r\n\0"):
            raise UsageError(f"bad header {raw!r}: the value must be one line of latin-1 text")
        headers[key] = value
    return headers


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def run(argv: list[str]) -> int:
    """One command line (help and version already handled): the download(s) it asks for; the exit code."""
    a = parse(argv)
    if a.print_sh:
        _print_sh(a.output)
        return 0
    return _run(a)


def _run(a: Args) -> int:
    if a.sha256 is not None and not (len(a.sha256) == 64 and set(a.sha256) <= _HEX):
        raise UsageError("--sha256 wants 64 hex digits")
    headers = parse_headers(a.header)
    target = None
    if a.input_file is None:
        target = _target(a)
        _send_first_request(a, target, headers)
    from rget.options import Options  # here, not at the top: --help and --version stay quick

    opts = Options(
        connections=a.connections,
        block_size=int(a.block_mib * MIB) if a.block_mib else None,
        retries=a.retries,
        timeout=a.timeout,
        headers=headers,
        sha256=a.sha256,
        executable=a.executable,
        resume=a.resume,
        force=a.force,
    )
    from pathlib import Path

    extract_dir = Path(a.extract_dir) if a.extract_dir is not None else None
    if a.input_file is not None:
        return _many(
            a.input_file,
            a.url or a.url_arg,
            a.output,
            extract_dir,
            a.checksums,
            a.per_file,
            opts,
            a.verbose and not a.quiet,
        )
    assert target is not None
    if a.checksums is not None:
        if a.sha256 is not None:
            raise UsageError("give --sha256 or --checksums, not both")
        from rget.manifest import entry_name, parse_checksums, read_text

        sums = parse_checksums(read_text(a.checksums, opts, "checksums"))
        name = entry_name(target, None if a.output in (None, "-") or a.output.endswith("/") else a.output)
        if name not in sums:
            raise RgetError(f"{target}: {name!r} is not in the checksums file {a.checksums}")
        opts.sha256 = sums[name]
    from rget.progress import Reporter

    reporter = Reporter(verbose=a.verbose, quiet=a.quiet)
    if extract_dir is not None:
        from rget.download import extract

        extract(target, extract_dir, opts, reporter, strip=a.strip_components)
        return 0
    from rget.download import download

    download(target, a.output, opts, reporter)
    return 0


def _target(a: Args) -> str:
    """The URL of a single download, and the usage errors its command line can have on its own."""
    if a.url and a.url_arg and a.url != a.url_arg:
        raise UsageError("give the URL once: -u URL or URL")
    target = a.url or a.url_arg
    if not target:
        raise UsageError("missing URL (rget URL [-o PATH], or rget -u URL)")
    from rget.remote import url_problem

    if problem := url_problem(target):
        raise UsageError(f"{target}: {problem}")
    if a.extract_dir is not None and a.output is not None:
        raise UsageError("give -o or -X, not both")
    if a.extract_dir is None and a.strip_components:
        raise UsageError("--strip-components goes with -X DIR")
    return target


def _send_first_request(a: Args, target: str, headers: dict[str, str]) -> None:
    """The download's first request on its way before the rest of rget and requests are imported (their ~0.1 s
    then overlaps its round trip: :func:`rget.early.prestart`), for a command line that is one download or
    extraction for certain: one that reads something else first (--checksums, -c's state) or that the download
    will still refuse starts as usual."""
    if a.checksums is not None or a.resume:
        return
    if a.extract_dir is not None:
        if a.executable:  # refused by the extraction: an archive keeps its own modes
            return
    else:
        from rget.output import destination

        try:
            dest = destination(a.output)  # -o names a missing DIR/, a directory without its slash, ...
        except RgetError:
            return  # ...the download says so, before any request
        if a.executable and dest.kind == "stream":  # refused by the download: -x needs a file
            return
    from rget.early import prestart

    prestart(target, headers, a.timeout, a.connections)


def _many(
    input_file: str,
    url: str | None,
    output: str | None,
    extract_dir: Path | None,
    checksums: str | None,
    per_file: int,
    opts: Options,
    verbose: bool,
) -> int:
    """``-i FILE``: the manifest's downloads; exit 1 if any failed."""
    if url:
        raise UsageError("give URLs in the -i file or on the command line, not both")
    if extract_dir is not None or opts.sha256 is not None:
        raise UsageError("-i takes neither -X nor --sha256 (put hashes in the file's third column, or --checksums)")
    if output is not None and not output.endswith("/"):
        raise UsageError("with -i, -o must be a directory (DIR/) for the lines without a PATH")
    if opts.resume or opts.executable:
        raise UsageError("-i takes neither -c nor -x")
    from rget.manifest import parse, parse_checksums, read_text, run

    entries = parse(read_text(input_file, opts, "manifest"), "stdin" if input_file == "-" else input_file)
    sums = parse_checksums(read_text(checksums, opts, "checksums")) if checksums else None
    return 1 if run(entries, opts, per_file, output, sums=sums, verbose=verbose) else 0


def _print_sh(output_arg: str | None) -> None:
    """rget.sh on stdout, or at ``-o`` by the rule every output follows: a FIFO, device or socket written
    through, a symlink's target replaced (the link stays), a regular file or a new path replaced atomically,
    ``DIR/`` gets ``DIR/rget.sh``."""
    from rget.script import script_text

    text = script_text().encode()
    if output_arg is None or output_arg == "-":
        sys.stdout.buffer.write(text)
        return
    from rget.output import destination, open_stream

    dest = destination(output_arg)
    if dest.kind == "stream":
        fd = open_stream(dest)
        try:
            view = memoryview(text)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            raise RgetError(f"{dest.shown}: cannot write: {e.strerror or e}") from None
        finally:
            os.close(fd)
        return
    assert dest.path is not None
    output = dest.path if dest.kind == "file" else dest.path / "rget.sh"
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_bytes(text)
        tmp.chmod(0o755)
        os.replace(tmp, output)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RgetError(f"{dest.shown}: cannot write: {e.strerror or e}") from None


def fail(message: object, code: int) -> NoReturn:
    """Print ``rget: message`` on stderr (signed URLs redacted) and exit with ``code``."""
    from rget.redact import redact_text

    print(f"rget: {redact_text(str(message))}", file=sys.stderr)
    raise SystemExit(code)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the interpreter's final flush must not complain about the closed pipe."""
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console script entry point: the command line, with rget's exit-code conventions.

    Without ``argv`` the process is rget's own (the console script, ``python -m rget``): once the outcome is
    printed it ends at once (:func:`_leave`) instead of tearing down every module requests loaded; with
    ``argv`` (a caller's process, a test) it raises SystemExit as usual.
    """
    if argv is not None:
        _main(argv)
    try:
        _main(sys.argv[1:])
    except SystemExit as e:
        _leave(e.code)


def _leave(code: object) -> NoReturn:
    """End the process with ``code`` after flushing stdout and stderr, skipping the interpreter's teardown (~50-100
    ms of CPU after a download: every object of requests and urllib3 freed one by one). Nothing is lost: the output
    file was written with os.pwrite and renamed, the state file closed, the stream's writer thread finished; a
    worker still running on an error path would have been dropped by the teardown too (daemon threads)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            _quiet_stdout()
            status = status or 141
        except (OSError, ValueError):
            pass
    os._exit(status)


def _main(args: list[str]) -> NoReturn:
    try:
        if wants(args, HELP_NAMES):
            from rget.help import help_text  # typer, on this path only

            sys.stdout.write(help_text())
            sys.stdout.flush()
            raise SystemExit(0)
        if wants(args, VERSION_NAMES):
            print(f"rget {__version__}", flush=True)
            raise SystemExit(0)
        code = run(args)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:  # a closed stdout, as `rget --help | true`: quiet, as `yes | head`
        _quiet_stdout()
        raise SystemExit(141) from None
    except ReaderGone:
        _quiet_stdout()
        raise SystemExit(141) from None
    except CommandLineError as e:
        fail(f"{e} (see 'rget --help')", 2)
    except RgetError as e:
        fail(e, e.exit_code)
    raise SystemExit(code)
