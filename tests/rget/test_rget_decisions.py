"""rget's decisions, with HTTP answered by ``responses``: probe, fallback, If-Range, redirects, retries."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
import requests
import responses

import rget.download
import rget.ranges
from rget.args import HELP_NAMES, OPTIONS, parse, wants
from rget.blocks import Block, State, plan, spread
from rget.cli import main, parse_headers
from rget.download import Options, backoff, download
from rget.errors import RgetError, UsageError
from rget.help import help_text
from rget.remote import ContentRange, parse_content_range
from tests.rget.servers import pattern

URL = "https://releases.example/tool.tar.gz"
CDN = "https://cdn.example/signed/tool.tar.gz"
Callback = Callable[[requests.PreparedRequest], tuple[int, dict[str, str], bytes]]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rget.download, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr(rget.ranges, "backoff", lambda attempt: 0.0)


def serving(data: bytes, etag: str | None = '"e1"', modified: str | None = None, ranges: bool = True) -> Callback:
    """A callback that serves ``data`` like a correct static server (or one that ignores Range)."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in (("ETag", etag), ("Last-Modified", modified)) if v}
        m = re.match(r"bytes=(\d+)-(\d*)$", request.headers.get("Range", ""))
        if_range = request.headers.get("If-Range")
        if ranges and m and (if_range is None or if_range in (etag, modified)):
            start, end = int(m.group(1)), min(int(m.group(2) or len(data) - 1), len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return 206, headers, data[start : end + 1]
        return 200, headers, data

    return answer


def ranges_of(calls: responses.CallList, url: str = URL) -> list[str | None]:
    return [c.request.headers.get("Range") for c in calls if c.request.url == url]


@responses.activate
def test_first_request_is_probe_and_first_range_and_the_others_carry_if_range(tmp_path: Path) -> None:
    data = pattern(10_000)
    responses.add_callback(responses.GET, URL, callback=serving(data))
    result = download(URL, tmp_path / "o", Options(connections=3, block_size=3334))
    assert (tmp_path / "o").read_bytes() == data
    assert result.mode == "ranges" and not result.restarted
    assert ranges_of(responses.calls)[0] == "bytes=0-"  # its body is the first block: no round trip for a probe
    assert sorted(ranges_of(responses.calls)[1:], key=str) == ["bytes=3334-6667", "bytes=6668-9999"]
    assert {c.request.headers.get("If-Range") for c in responses.calls[1:]} == {'"e1"'}
    assert all(c.request.headers["Accept-Encoding"] == "identity" for c in responses.calls)


@pytest.mark.parametrize(
    ("etag", "modified", "expected"),
    [
        ('"strong"', "Sat, 28 Nov 2026 10:00:00 GMT", '"strong"'),
        ('W/"weak"', "Sat, 28 Nov 2026 10:00:00 GMT", None),  # only a strong ETag goes in If-Range
        (None, None, None),
    ],
)
@responses.activate
def test_if_range_carries_only_a_strong_etag(
    tmp_path: Path, etag: str | None, modified: str | None, expected: str | None
) -> None:
    data = pattern(4096)
    responses.add_callback(responses.GET, URL, callback=serving(data, etag=etag, modified=modified))
    download(URL, tmp_path / "o", Options(connections=2, block_size=2048))
    assert (tmp_path / "o").read_bytes() == data
    # without any validator a mix could not be caught: one stream (the first answer's), no more requests; with a
    # weak ETag or a date the ranges go without If-Range, their validators compared instead
    assert [c.request.headers.get("If-Range") for c in responses.calls[1:]] == (
        [expected] if expected else [None] * bool(etag or modified)
    )


@responses.activate
def test_server_ignoring_range_is_one_request_one_stream(tmp_path: Path) -> None:
    data = pattern(5000)
    responses.add_callback(responses.GET, URL, callback=serving(data, ranges=False))
    result = download(URL, tmp_path / "o", Options(connections=8))
    assert (tmp_path / "o").read_bytes() == data
    assert result.mode == "single" and len(responses.calls) == 1


@responses.activate
def test_206_without_a_total_falls_back_to_one_stream(tmp_path: Path) -> None:
    data = pattern(3000)
    responses.add(responses.GET, URL, status=206, headers={"Content-Range": "bytes 0-0/*"}, body=data[:1])
    responses.add(responses.GET, URL, status=200, body=data)
    result = download(URL, tmp_path / "o", Options(connections=4))
    assert (tmp_path / "o").read_bytes() == data and result.mode == "single"
    assert ranges_of(responses.calls) == ["bytes=0-", None]


@responses.activate
def test_200_to_a_range_means_changed_restart_once_as_one_stream(tmp_path: Path) -> None:
    old, new = pattern(8000, seed=1), pattern(9000, seed=2)
    seen: list[str] = []

    def switch(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        # the probe sees the old file, every later request the new one (If-Range "old" -> 200 with the new bytes)
        seen.append(request.headers.get("Range", "-"))
        return serving(old if len(seen) == 1 else new, etag='"old"' if len(seen) == 1 else '"new"')(request)

    responses.add_callback(responses.GET, URL, callback=switch)
    result = download(URL, tmp_path / "o", Options(connections=2, block_size=4000))
    assert (tmp_path / "o").read_bytes() == new
    assert result.restarted and result.mode == "single"
    assert seen[-1] == "-"  # the restart is a plain GET
    assert len(seen) <= 4  # probe, at most two ranges, one stream: no second restart


@responses.activate
def test_206_with_another_total_is_a_change_too(tmp_path: Path) -> None:
    data, longer = pattern(6000), pattern(7000)
    n = {"calls": 0}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        n["calls"] += 1
        if "Range" not in request.headers:
            return 200, {}, longer
        if n["calls"] == 1:
            return serving(data)(request)
        return 206, {"Content-Range": f"bytes 0-2999/{len(longer)}", "ETag": '"e1"'}, longer[:3000]

    responses.add_callback(responses.GET, URL, callback=answer)
    result = download(URL, tmp_path / "o", Options(connections=2, block_size=3000))
    assert result.restarted and (tmp_path / "o").read_bytes() == longer


@responses.activate
def test_extra_headers_never_follow_a_redirect_to_another_host(tmp_path: Path) -> None:
    data = pattern(4000)
    responses.add(responses.GET, URL, status=302, headers={"Location": CDN + "?sig=abc"})
    responses.add_callback(responses.GET, CDN, callback=serving(data))
    opts = Options(connections=2, block_size=2000, headers={"Authorization": "token s3cret", "X-Custom": "1"})
    download(URL, tmp_path / "o", opts)
    assert (tmp_path / "o").read_bytes() == data
    to_origin = [c.request for c in responses.calls if c.request.url == URL]
    to_cdn = [c.request for c in responses.calls if c.request.url and c.request.url.startswith(CDN)]
    assert [r.headers.get("Authorization") for r in to_origin] == ["token s3cret"]
    assert len(to_cdn) == 2  # the first answer (first range too) + the second range, straight to the resolved URL
    assert all("Authorization" not in r.headers and "X-Custom" not in r.headers for r in to_cdn)
    assert all("Range" in r.headers for r in to_cdn)


@responses.activate
def test_expired_redirect_target_is_re_resolved_from_the_original_url(tmp_path: Path) -> None:
    data = pattern(4000)
    responses.add(responses.GET, URL, status=302, headers={"Location": CDN + "?sig=1"})
    responses.add(responses.GET, URL, status=302, headers={"Location": CDN + "?sig=2"})
    good = serving(data)

    def cdn(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        if "sig=1" in (request.url or "") and request.headers.get("Range") != "bytes=0-":
            return 403, {}, b"expired"
        return good(request)

    responses.add_callback(responses.GET, re.compile(re.escape(CDN) + r"\?sig=\d"), callback=cdn)
    result = download(URL, tmp_path / "o", Options(connections=1, block_size=1000))
    assert (tmp_path / "o").read_bytes() == data and not result.restarted
    assert [c.request.url for c in responses.calls if c.request.url == URL] == [URL, URL]


@responses.activate
def test_403_from_the_original_url_is_final(tmp_path: Path) -> None:
    data = pattern(4000)
    n = {"calls": 0}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        n["calls"] += 1
        return serving(data)(request) if n["calls"] == 1 else (403, {}, b"")

    responses.add_callback(responses.GET, URL, callback=answer)
    with pytest.raises(RgetError, match=r"HTTP 403"):
        download(URL, tmp_path / "o", Options(connections=1, block_size=1000))
    assert n["calls"] == 2
    assert not (tmp_path / "o").exists()


@responses.activate
def test_5xx_is_retried_then_succeeds(tmp_path: Path) -> None:
    data = pattern(3000)
    n = {"calls": 0}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        n["calls"] += 1
        return (503, {}, b"busy") if n["calls"] in (2, 3) else serving(data)(request)

    responses.add_callback(responses.GET, URL, callback=answer)
    download(URL, tmp_path / "o", Options(connections=1, retries=2, block_size=1500))
    assert (tmp_path / "o").read_bytes() == data and n["calls"] == 4


@responses.activate
def test_retries_run_out_with_one_line_naming_url_and_status(tmp_path: Path) -> None:
    n = {"calls": 0}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        n["calls"] += 1
        return serving(pattern(3000), etag=None)(request) if n["calls"] == 1 else (503, {}, b"")

    responses.add_callback(responses.GET, URL, callback=answer)
    # no validator: ranges only because --sha256 will prove the result, and nothing is resumable
    digest = hashlib.sha256(pattern(3000)).hexdigest()
    with pytest.raises(RgetError) as e:
        download(URL, tmp_path / "o", Options(connections=1, retries=3, block_size=1500, sha256=digest))
    assert str(e.value) == f"{URL}: HTTP 503 Service Unavailable (gave up after 4 attempts)"
    assert n["calls"] == 5
    assert list(tmp_path.iterdir()) == []  # without a validator nothing is resumable: nothing kept


@responses.activate
def test_5xx_to_the_probe_and_to_one_stream_name_the_url_once(tmp_path: Path) -> None:
    responses.add(responses.GET, URL, status=503)
    with pytest.raises(RgetError) as e:
        download(URL, tmp_path / "o", Options(retries=1))
    assert str(e.value) == f"{URL}: HTTP 503 Service Unavailable (gave up after 2 attempts)"
    assert len(responses.calls) == 2
    plain = "https://releases.example/plain"  # no ranges; its stream is cut short, then the server is busy
    n = {"calls": 0}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        n["calls"] += 1
        return (200, {"Content-Length": "100"}, b"short") if n["calls"] == 1 else (503, {}, b"")

    responses.add_callback(responses.GET, plain, callback=answer)
    with pytest.raises(RgetError) as e:
        download(plain, tmp_path / "o", Options(retries=1))
    assert str(e.value) == f"{plain}: HTTP 503 Service Unavailable (gave up after 2 attempts)"
    assert n["calls"] == 2
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_dropped_connection_during_probe_is_retried(tmp_path: Path) -> None:
    data = pattern(2000)
    responses.add(responses.GET, URL, body=requests.ConnectionError("reset"))
    responses.add_callback(responses.GET, URL, callback=serving(data))
    download(URL, tmp_path / "o", Options(connections=1, retries=1))
    assert (tmp_path / "o").read_bytes() == data


@responses.activate
def test_404_fails_at_once(tmp_path: Path) -> None:
    responses.add(responses.GET, URL, status=404)
    with pytest.raises(RgetError, match=re.escape(f"{URL}: HTTP 404 Not Found")):
        download(URL, tmp_path / "o", Options(retries=5))
    assert len(responses.calls) == 1


@responses.activate
def test_redirect_to_a_bad_url_is_one_line(tmp_path: Path) -> None:
    responses.add(responses.GET, URL, status=302, headers={"Location": "https://cdn.example:99999/x?sig=secret"})
    with pytest.raises(RgetError) as e:
        download(URL, tmp_path / "o", Options())
    assert str(e.value).startswith(f"{URL}: redirected to a bad URL: https://cdn.example:99999/x?…: ")
    assert "secret" not in str(e.value) and type(e.value) is RgetError  # exit 1: the server's fault
    assert list(tmp_path.iterdir()) == []


@responses.activate
def test_redirect_loop_is_an_error(tmp_path: Path) -> None:
    responses.add(responses.GET, URL, status=302, headers={"Location": URL})
    with pytest.raises(RgetError, match="more than 10 redirects"):
        download(URL, tmp_path / "o", Options())


def test_content_range_parsing() -> None:
    assert parse_content_range("bytes 10-19/100") == ContentRange(10, 19, 100)
    assert parse_content_range("bytes 0-0/*") == ContentRange(0, 0, None)
    assert parse_content_range("bytes */42") == ContentRange(None, None, 42)
    assert parse_content_range("items 0-1/2") is None
    assert parse_content_range(None) is None


def test_plan_covers_every_byte_once() -> None:
    for size in (1, 2, 7, 1000, 1001):
        for n in (1, 3, 16):
            for bs in (None, 1, 64):
                blocks = plan(size, n, bs)
                assert blocks[0].start == 0 and blocks[-1].end == size - 1
                assert all(a.end + 1 == b.start for a, b in pairwise(blocks))
    assert len(plan(1000, 4)) == 4 and plan(0, 4) == []


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    assert 0.1 <= backoff(1) <= 0.2
    assert 0.8 <= backoff(4) <= 1.6
    assert backoff(30) <= 10


def test_headers_parse_and_reject_garbage() -> None:
    assert parse_headers(["A: b: c"]) == {"A": "b: c"}
    with pytest.raises(UsageError, match="bad header"):
        parse_headers(["no colon"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "x"], "rget: missing URL"),
        (["http://a/b", "-o", "-", "-c"], "rget: -c cannot resume a stream (stdout)"),
        (
            ["http://a/b", "-o", "/tmp"],
            "rget: /tmp: is a directory (to save into it under the URL's file name: -o /tmp/)",
        ),
        (["http://a/b", "-o", "/no/such/dir/"], "rget: /no/such/dir/: no such directory"),
        (["-u", "http://a/b", "http://a/c", "-o", "x"], "rget: give the URL once"),
        (["ftp://a/b", "-o", "x"], "rget: ftp://a/b: only http:// and https:// URLs"),
        (["http:///b", "-o", "x"], "rget: http:///b: no host"),
        (["http://a:99999/b", "-o", "x"], "rget: http://a:99999/b: Port out of range"),
        (["http://a:x/b", "-o", "x"], "rget: http://a:x/b: Port could not be cast"),
        (["http://[::1/b", "-o", "x"], "rget: http://[::1/b: Invalid IPv6 URL"),
        (["http://a/b", "-o", "x", "--sha256", "abc"], "rget: --sha256 wants 64 hex digits"),
        (["http://a/b", "-o", "x", "-H", "nocolon"], "rget: bad header 'nocolon'"),
        (["http://a/b", "-o", "x", "-H", "X€: a"], "rget: bad header 'X€: a': expected 'Name: value'"),
        (["http://a/b", "-o", "x", "-H", "X: €"], "rget: bad header 'X: €': the value must be one line of latin-1"),
        (["http://a/b", "-o", "x", "-H", "X: a\nb"], "rget: bad header 'X: a\\nb': the value must be one line"),
        (["http://a/b", "-o", "x", "-P", "0"], "rget: Invalid value for '-P'"),
        (["--bogus"], "rget: No such option: --bogus"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.startswith(message) and err.count("\n") == 1, err


def test_version_and_print_sh(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        main(["-V"])
    assert e.value.code == 0 and capsys.readouterr().out == f"rget {rget.__version__}\n"
    with pytest.raises(SystemExit):
        main(["--print-sh"])
    shipped = Path(__file__).resolve().parents[2] / "packages" / "rget" / "rget.sh"
    assert capsys.readouterr().out == shipped.read_text()
    with pytest.raises(SystemExit) as e:
        main(["--print-sh", "-o", str(tmp_path / "rget.sh")])
    assert e.value.code == 0 and (tmp_path / "rget.sh").stat().st_mode & 0o777 == 0o755


@responses.activate
def test_unwritable_output_is_one_line_and_no_leftovers(tmp_path: Path) -> None:
    responses.add_callback(responses.GET, URL, callback=serving(pattern(1000)))
    missing = tmp_path / "missing"
    with pytest.raises(RgetError, match=re.escape(f"{missing / 'o'}: no such directory: {missing}")):
        download(URL, missing / "o", Options())
    assert len(responses.calls) == 0  # said before any request
    with pytest.raises(RgetError, match="is a directory"):
        download(URL, tmp_path, Options())
    assert list(tmp_path.iterdir()) == []


def test_spread_splits_what_is_left_over_every_connection() -> None:
    left = spread([Block(0, 9, 10), Block(10, 8 * 1024 * 1024 - 1, 100)], 4)
    assert len(left) == 4 and left[0].pos == 100 and left[-1].end == 8 * 1024 * 1024 - 1
    assert all(a.end + 1 == b.pos for a, b in pairwise(left))
    assert max(b.left for b in left) - min(b.left for b in left) <= 1
    assert spread([Block(0, 99, 0)], 8) == [Block(0, 99, 0)]  # below 2 MiB: not worth more connections


def test_a_state_that_cannot_be_saved_says_so_and_leaves_no_temp_file(tmp_path: Path) -> None:
    state = State(URL, 10, '"e1"', None, plan(10, 1))
    (tmp_path / "o.part.state").mkdir()  # the rename over it fails after the temp file is written
    assert not state.save(tmp_path / "o.part.state")
    assert [p.name for p in tmp_path.iterdir()] == ["o.part.state"]
    assert state.save(tmp_path / "o2.part.state") and State.load(tmp_path / "o2.part.state") == state


@responses.activate
def test_continue_resumes_only_the_missing_bytes_over_every_connection(tmp_path: Path) -> None:
    data = pattern(8 * 1024 * 1024)
    responses.add_callback(responses.GET, URL, callback=serving(data))
    out = tmp_path / "o"
    part = tmp_path / "o.part"
    part.write_bytes(data[:1000] + bytes(len(data) - 1000))  # 1000 bytes arrived before the interruption
    state = {"url": URL, "size": len(data), "etag": '"e1"', "last_modified": None, "blocks": [[1000, len(data) - 1]]}
    (tmp_path / "o.part.state").write_text(json.dumps(state))
    result = download(URL, out, Options(connections=4, resume=True))
    assert out.read_bytes() == data and result.resumed_from == 1000
    ranges = sorted(ranges_of(responses.calls)[1:], key=lambda r: int(str(r)[6:].split("-")[0]))
    assert str(ranges[0]).startswith("bytes=1000-")  # nothing below 1000 asked again
    planned = [
        r for r in ranges if r in {f"bytes={b.pos}-{b.end}" for b in spread([Block(1000, len(data) - 1, 1000)], 4)}
    ]
    assert len(planned) == 4  # spread over every connection (any more are splits of a range still in flight)
    assert list(tmp_path.iterdir()) == [out]


@responses.activate
def test_redirect_target_expired_before_the_first_byte_is_asked_for_again(tmp_path: Path) -> None:
    data = pattern(3000)
    responses.add(responses.GET, URL, status=302, headers={"Location": CDN + "?sig=old"})
    responses.add(responses.GET, URL, status=302, headers={"Location": CDN + "?sig=new"})
    good = serving(data)

    def cdn(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return (403, {}, b"Request has expired") if "sig=old" in (request.url or "") else good(request)

    responses.add_callback(responses.GET, re.compile(re.escape(CDN) + r"\?sig=\w+"), callback=cdn)
    download(URL, tmp_path / "o", Options(connections=1))
    assert (tmp_path / "o").read_bytes() == data
    assert [c.request.url for c in responses.calls if c.request.url == URL] == [URL, URL]


def test_command_line_grammar_is_clicks() -> None:
    a = parse(["-qfP8", "--timeout=2.5", "-o-", "-H", "A: b", "-H", "C: d", "-P", "3", "--", "-not-an-option"])
    assert (a.quiet, a.force, a.connections, a.timeout, a.output) == (True, True, 3, 2.5, "-")
    assert (a.header, a.url_arg) == (["A: b", "C: d"], "-not-an-option")
    assert parse([]).connections == 4 and parse([]).header == [] and parse([]).block_mib is None
    with pytest.raises(UsageError, match="Option '-o' requires an argument"):
        parse(["http://a/b", "-o", "--force"])  # the value was forgotten, not '--force'
    assert wants(["http://a/b", "--bogus", "-h"], HELP_NAMES) and not wants(["--", "-h"], HELP_NAMES)


def test_help_lists_every_option_and_is_plain(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["http://a/b", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and out.startswith("Usage: rget [OPTIONS] [URL]\n")
    for opt in OPTIONS[1:]:
        assert ", ".join(opt.names) in out
    assert "[default: 4; 1<=x<=64]" in out and "\x1b" not in out
    assert all(len(line) <= 78 for line in help_text(200).splitlines())


def test_the_rates_of_the_connections_are_read_while_other_workers_change_them() -> None:
    """Each worker sets and drops its own rate while reading the others' (a straggler check); without the lock the
    read's iteration meets a resize ("dictionary changed size during iteration") within a second here."""
    import sys
    import threading

    from rget.ranges import Rates

    rates = Rates()
    for me in range(200):
        rates.set(me, float(me))
    stop = threading.Event()
    failures: list[BaseException] = []

    def churn(first: int) -> None:
        while not stop.is_set():
            for me in range(first, first + 50):
                rates.set(me, 1.0)
            for me in range(first, first + 50):
                rates.drop(me)

    def read() -> None:
        try:
            while not stop.is_set():
                assert rates.fastest_but(-1) >= 199.0
        except BaseException as e:
            failures.append(e)
            stop.set()

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=churn, args=(1000 * (i + 1),)) for i in range(2)]
        threads += [threading.Thread(target=read) for _ in range(2)]
        for t in threads:
            t.start()
        stop.wait(1.0)
        stop.set()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert not failures, failures[0]
