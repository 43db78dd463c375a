"""rget against misbehaving servers (issue 21): each way a server can lie, by name, with the outcome it must have,
then drawn by hypothesis (the ``http`` target of test_hostile_properties.py runs in-process; here a few drawn
cases also go through the installed console script). Every run is checked by tests/hostile/http_cases.py: the exact
bytes or one line and exit 1, in bounded time, nothing half-written, nothing written elsewhere."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.hostile.http_cases import HttpCase, check, http_case
from tests.hostile.scripted_server import Answer


def case(*answers: Answer, honest: bool = True, size: int = 200_000, retries: int = 1, **flags: object) -> HttpCase:
    options: dict[str, object] = {"connections": 4, "block": True, "existing": False, **flags}
    return HttpCase((size, size), 7, answers, honest, retries=retries, **options)  # type: ignore[arg-type]


# name -> (case, expected exit code, a part of the error line)
NAMED: dict[str, tuple[HttpCase, int, str]] = {
    "well-behaved": (case(Answer()), 0, ""),
    "200-instead-of-206": (case(Answer(range_mode="ignore")), 0, ""),
    "wrong-ranges-then-restart": (case(Answer(), Answer(range_mode="relabel", shift=7)), 0, ""),
    "content-range-total-lies": (case(Answer(range_mode="total", shift=5), honest=False), 0, ""),
    "no-content-range": (case(Answer(range_mode="no_cr")), 0, ""),
    "etag-changes-every-answer": (case(Answer(etag="unique", modified="none")), 0, ""),
    "weak-etag": (case(Answer(etag="weak", modified="none")), 0, ""),
    "version-swapped-under-same-etag": (
        case(Answer(), Answer(version=2, etag="other", modified="other"), honest=False),
        1,
        "sha256 mismatch",
    ),
    "swapped-with-new-etag": (case(Answer(), Answer(version=2)), 0, ""),
    "short-content-length": (
        case(Answer(range_mode="ignore", length="short", shift=100), honest=False),
        1,
        "sha256 mismatch",
    ),
    "long-content-length": (case(Answer(range_mode="ignore", length="long")), 1, "gave up after 2 attempts"),
    "two-content-lengths": (
        case(Answer(range_mode="ignore", length="two"), honest=False),
        1,
        "Content-Length contained multiple unmatching values (200000, 200001)",
    ),
    "chunked-cut": (case(Answer(range_mode="ignore", length="chunked", body="cut", cut=5000)), 1, "gave up"),
    "cut-once": (case(Answer(body="cut", cut=1000), Answer()), 0, ""),
    "cut-forever": (case(Answer(body="cut", cut=1000)), 1, "rerun with -c to resume"),
    "drip": (case(Answer(body="drip"), size=65_537), 0, ""),
    "stall": (case(Answer(body="stall", cut=5000), retries=0), 1, "no data for 0.5 s"),
    "header-line-of-1-mb": (case(Answer(extra="huge")), 1, "a header line over 65536 bytes"),
    "500-headers": (case(Answer(extra="many")), 1, "more than 99 headers"),
    "redirect-loop": (case(Answer(kind="redirect", status=302, location="self")), 1, "more than 10"),
    "redirect-to-bad-url": (case(Answer(kind="redirect", status=301, location="bad")), 1, "redirected to a bad URL"),
    "redirect-to-closed-port": (case(Answer(kind="redirect", status=307, location="closed")), 1, "refused"),
    "redirect-then-file": (case(Answer(kind="redirect", status=308, location="next"), Answer()), 0, ""),
    "garbage-status-line": (case(Answer(kind="raw", raw=b"garbage\r\n\r\n")), 1, "gave up"),
    "headers-cut-after-status-line": (
        case(Answer(kind="raw", raw=b"HTTP/1.1 200 OK\r\n")),
        1,
        "connection closed before any data",
    ),
    "hang-up-at-once": (case(Answer(kind="raw", raw=b"")), 1, "connection closed by the server"),
    "terminal-escapes-in-reason": (
        case(Answer(kind="status", status=404, reason="\x1b[2J\x1b[31mEVIL")),
        1,
        "HTTP 404 \\x1b[2J\\x1b[31mEVIL",
    ),
    "503-then-file": (case(Answer(kind="status", status=503), Answer()), 0, ""),
    "416-to-everything": (case(Answer(range_mode="r416")), 1, "HTTP 416"),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_misbehaviour(name: str) -> None:
    http, code, needle = NAMED[name]
    outcome = check(http)
    assert outcome.code == code, (outcome.code, outcome.stderr)
    assert needle in outcome.stderr, outcome.stderr


def named(name: bytes) -> Answer:
    return Answer(disposition=b'attachment; filename="' + name + b'"')


# the server names the file (-o DIR/): name -> (answer, the file rget makes)
NAMING = {
    "traversal": (named(b"../../evil.bin"), "evil.bin"),
    "absolute": (named(b"/etc/passwd"), "passwd"),
    "windows-path": (named(b"dir\\win.exe"), "win.exe"),
    "terminal-escapes": (named(b"a\x1b[2Jb.bin"), "a[2Jb.bin"),
    "dot-dot": (named(b".."), "file.bin"),  # no usable name: the URL's
    "too-long": (named(b"x" * 300), "x" * 240),  # room left for NAME.part.state.tmp beside it
    "rfc-5987-traversal": (Answer(disposition=b"attachment; filename*=UTF-8''%2e%2e%2fx.bin"), "x.bin"),
}


@pytest.mark.parametrize("name", sorted(NAMING))
def test_server_chosen_names_stay_in_the_directory(name: str) -> None:
    answer, made = NAMING[name]
    outcome = check(case(answer, into=True))
    assert outcome.code == 0 and outcome.left == (made,), (outcome.stderr, outcome.left)


# issue 21's rget inputs (items 12-13) through the installed script: one line, exit 1, within 2 s of CPU and 200 MB
THROUGH_THE_SCRIPT = ["well-behaved", "redirect-to-bad-url", "header-line-of-1-mb", "500-headers", "cut-forever"]
THROUGH_THE_SCRIPT += ["two-content-lengths"]  # the first answer, read while Python starts, has its own path


@pytest.mark.parametrize("name", THROUGH_THE_SCRIPT)
def test_named_misbehaviour_through_the_installed_script(name: str) -> None:
    http, code, needle = NAMED[name]
    outcome = check(http, script=True)
    assert outcome.code == code and needle in outcome.stderr, outcome.stderr


@settings(max_examples=3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(http_case(slow=False, max_answers=3))
def test_drawn_servers_through_the_installed_script(http: HttpCase) -> None:
    check(http, script=True)


# -o -: the stream is one version, or (exit 1) a prefix of one: bytes sent are never taken back, never mixed
STREAMS: dict[str, tuple[HttpCase, int | None]] = {
    "well-behaved": (case(Answer(), stream=True), 0),
    # exit 1 once bytes went out ("cannot start over"), else 0 with all of version 2: the race decides which
    "swapped-midway": (case(Answer(), Answer(), Answer(version=2), stream=True, size=300_001), None),
    "cut-then-good": (case(Answer(body="cut", cut=70_000), Answer(), stream=True), 0),
    "200-instead-of-206": (case(Answer(range_mode="ignore"), stream=True), 0),
    "short-then-hang-up": (
        case(Answer(kind="raw", raw=b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), stream=True),
        1,
    ),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_streams_from_misbehaving_servers(name: str) -> None:
    http, code = STREAMS[name]
    outcome = check(http, script=True)  # the properties: one version, or a prefix of one
    assert code is None or outcome.code == code, outcome.stderr


@settings(max_examples=3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(http_case(slow=False, max_answers=3, stream=True))
def test_drawn_servers_streamed_through_the_installed_script(http: HttpCase) -> None:
    check(http, script=True)
