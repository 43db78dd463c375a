"""The rget command line: flags -> one call to :func:`rget.download.download` -> exit code.

rget stands alone (no dockit), so it carries its own small copy of the team's conventions: one line
``rget: message`` on stderr, exit 2 for usage, 1 for a failed download, 130 on Ctrl-C, never a traceback.
requests is imported only when a download starts, so ``rget --help`` stays quick.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from rget import __version__
from rget.errors import ReaderGone, RgetError, UsageError

if TYPE_CHECKING:
    from rget.options import Options

MIB = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,  # plain click help: rich.markdown alone costs ~0.13 s of start-up
)


def _version(value: bool) -> None:
    if value:
        print(f"rget {__version__}")
        raise typer.Exit()


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


@app.command(help="Download one file over many HTTP Range connections: resumable, verified, never a corrupt file.")
def rget(
    url_arg: Annotated[
        str | None, typer.Argument(metavar="[URL]", help="URL to download (or -u)", show_default=False)
    ] = None,
    url: Annotated[str | None, typer.Option("-u", "--url", help="URL to download", show_default=False)] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help="output file; - for stdout (a pipe or FIFO is streamed in order); DIR/ to save into DIR"
            " [default: the server's file name, here]",
            show_default=False,
        ),
    ] = None,
    extract_dir: Annotated[
        Path | None,
        typer.Option(
            "-X",
            "--extract",
            metavar="DIR",
            help="unpack tar, tar.gz/bz2/xz/zst (while downloading) or zip into DIR, safely; nothing lands in DIR"
            " unless complete and verified",
            show_default=False,
        ),
    ] = None,
    strip_components: Annotated[
        int, typer.Option("--strip-components", min=0, metavar="N", help="with -X: drop N leading path parts")
    ] = 0,
    input_file: Annotated[
        str | None,
        typer.Option(
            "-i",
            "--input-file",
            metavar="FILE",
            help="many downloads: one 'URL [PATH [SHA256]]' per line (- for stdin); -P is the total budget",
            show_default=False,
        ),
    ] = None,
    per_file: Annotated[int, typer.Option("--per-file", min=1, metavar="N", help="with -i: connections per file")] = 4,
    checksums: Annotated[
        str | None,
        typer.Option(
            "--checksums",
            metavar="URL|FILE",
            help="verify each download against the SHA256SUMS-style line naming its file",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("-f", "--force", help="replace an existing file when rget chose the name (no -o, DIR/)")
    ] = False,
    connections: Annotated[int, typer.Option("-P", "--connections", min=1, max=64, help="connections")] = 4,
    block_mib: Annotated[
        float | None,
        typer.Option("-b", "--block-size", min=0.0625, help="block size in MiB [default: size / connections]"),
    ] = None,
    executable: Annotated[bool, typer.Option("-x", "--executable", help="make the output executable")] = False,
    sha256: Annotated[
        str | None, typer.Option("--sha256", metavar="HEX", help="verify; on mismatch exit 1, no output file")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", metavar="'K: V'", help="extra header, repeatable; never sent to another host"),
    ] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="retries per range (exponential backoff)")] = 5,
    timeout: Annotated[float, typer.Option("--timeout", min=0.01, help="seconds without data per connection")] = 30.0,
    resume: Annotated[bool, typer.Option("-c", "--continue", help="resume an interrupted download")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="say what happens")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress bar")] = False,
    print_sh: Annotated[
        bool, typer.Option("--print-sh", help="write rget.sh (the busybox-only twin) to stdout, or to -o")
    ] = False,
    version: Annotated[
        bool | None, typer.Option("-V", "--version", callback=_version, is_eager=True, help="print the version")
    ] = None,
) -> None:
    if print_sh:
        _print_sh(output)
        return
    if sha256 is not None and not _SHA256.match(sha256):
        raise UsageError("--sha256 wants 64 hex digits")
    from rget.options import Options  # here, not at the top: --help and --version stay quick

    opts = Options(
        connections=connections,
        block_size=int(block_mib * MIB) if block_mib else None,
        retries=retries,
        timeout=timeout,
        headers=parse_headers(header or []),
        sha256=sha256,
        executable=executable,
        resume=resume,
        force=force,
    )
    if input_file is not None:
        raise typer.Exit(
            _many(input_file, url or url_arg, output, extract_dir, checksums, per_file, opts, verbose and not quiet)
        )
    if url and url_arg and url != url_arg:
        raise UsageError("give the URL once: -u URL or URL")
    target = url or url_arg
    if not target:
        raise UsageError("missing URL (rget URL [-o PATH], or rget -u URL)")
    from rget.remote import url_problem

    if problem := url_problem(target):
        raise UsageError(f"{target}: {problem}")
    if checksums is not None:
        if sha256 is not None:
            raise UsageError("give --sha256 or --checksums, not both")
        from rget.manifest import entry_name, parse_checksums, read_text

        sums = parse_checksums(read_text(checksums, opts, "checksums"))
        name = entry_name(target, None if output in (None, "-") or str(output).endswith("/") else output)
        if name not in sums:
            raise RgetError(f"{target}: {name!r} is not in the checksums file {checksums}")
        opts.sha256 = sums[name]
    from rget.progress import Reporter

    reporter = Reporter(verbose=verbose, quiet=quiet)
    if extract_dir is not None:
        if output is not None:
            raise UsageError("give -o or -X, not both")
        from rget.download import extract

        extract(target, extract_dir, opts, reporter, strip=strip_components)
        return
    if strip_components:
        raise UsageError("--strip-components goes with -X DIR")
    from rget.download import download

    download(target, output, opts, reporter)


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
    from rget.script import script_text

    text = script_text()
    if output_arg is None or output_arg == "-":
        sys.stdout.write(text)
        return
    output = Path(output_arg)
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, output)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RgetError(f"{output}: cannot write: {e.strerror or e}") from None


def fail(message: object, code: int) -> NoReturn:
    """Print ``rget: message`` on stderr (signed URLs redacted) and exit with ``code``."""
    from rget.redact import redact_text

    print(f"rget: {redact_text(str(message))}", file=sys.stderr)
    raise SystemExit(code)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the interpreter's final flush must not complain about the closed pipe."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console script entry point: run the app with rget's exit-code conventions."""
    from typer._click.exceptions import ClickException
    from typer._click.exceptions import UsageError as ClickUsageError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="rget", standalone_mode=False)
    except SystemExit:
        from typer._click.utils import PacifyFlushWrapper

        if isinstance(sys.stdout, PacifyFlushWrapper):  # typer met EPIPE printing the help: quiet, as `yes | head`
            _quiet_stdout()
            raise SystemExit(141) from None
        raise
    except typer.Exit as e:
        raise SystemExit(e.exit_code) from None
    except ClickUsageError as e:
        fail(f"{e.format_message()} (see 'rget --help')", 2)
    except (typer.Abort, KeyboardInterrupt):
        fail("interrupted", 130)
    except BrokenPipeError:
        _quiet_stdout()
        raise SystemExit(0) from None
    except ReaderGone:
        _quiet_stdout()
        raise SystemExit(141) from None
    except RgetError as e:
        fail(e, e.exit_code)
    except ClickException as e:
        fail(e.format_message(), e.exit_code)
    if result == 130:  # typer turns KeyboardInterrupt into a returned 130 when not in standalone mode
        fail("interrupted", 130)
    raise SystemExit(result if isinstance(result, int) else 0)
