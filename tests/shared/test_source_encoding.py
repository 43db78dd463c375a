"""A Dockerfile's bytes come back as they were where a tool does not touch them: a UTF-8 BOM, CRLF line endings, and
a file that is not UTF-8 (Latin-1 is common in old repositories; docker builds it), in all four Dockerfile tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockit.dockerfile import SourceEncoding, decode_source, parse

BIN = Path(sys.executable).parent
LATIN1_CRLF_BOM = (
    b"\xef\xbb\xbfFROM busybox AS base\r\n# caf\xe9\r\nRUN echo caf\xe9 > /x\r\nRUN echo two\r\n\r\n"
    b"FROM busybox AS unused\r\nRUN true\r\n\r\nFROM base\r\nLABEL note=\xe0\xe9\r\nCOPY a.txt /app/\r\n"
)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"FROM a\nRUN x\n", SourceEncoding()),
        (b"\xef\xbb\xbfFROM a\r\nRUN x\r\n", SourceEncoding(bom=True)),
        ("FROM a\nLABEL x=café\n".encode(), SourceEncoding()),
        (b"FROM a\nLABEL x=caf\xe9\n", SourceEncoding(charset="latin-1")),
        (LATIN1_CRLF_BOM, SourceEncoding(bom=True, charset="latin-1")),
    ],
)
def test_parse_and_encode_give_the_bytes_back(data: bytes, encoding: SourceEncoding) -> None:
    df = parse(data)
    assert df.encoding == encoding
    assert df.encoding.encode(str(df)) == data


@given(body=st.binary(max_size=60).filter(lambda b: b"\0" not in b and b"\\" not in b and b"\r" not in b))
def test_any_label_bytes_round_trip(body: bytes) -> None:
    data = b'FROM a\nLABEL k="' + body.replace(b'"', b"").replace(b"\n", b"") + b'"\n'
    text, encoding = decode_source(data)
    assert encoding.encode(text) == data


def test_crlf_is_the_files_line_ending() -> None:
    assert parse(b"FROM a\r\nRUN x\r\n").eol == "\r\n" and parse(b"FROM a\nRUN x\r\n").eol == "\n"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_bytes(LATIN1_CRLF_BOM)
    (tmp_path / "a.txt").write_text("a\n")
    return tmp_path


def run(tool: str, *args: str, cwd: Path) -> bytes:
    done = subprocess.run([str(BIN / tool), *args], cwd=cwd, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_targd_keeps_bom_crlf_and_latin1(workdir: Path) -> None:
    out = run("targd", "Dockerfile", cwd=workdir)
    # the unused stage goes; the blank line left where it was uses the file's CRLF
    assert out == LATIN1_CRLF_BOM.replace(b"FROM busybox AS unused\r\nRUN true\r\n\r\n", b"")


def test_minid_keeps_bom_crlf_and_latin1(workdir: Path) -> None:
    out = run("minid", "Dockerfile", cwd=workdir)
    merged = b"RUN (echo caf\xe9 > /x) \\\r\n    && (echo two)\r\n"
    assert out == LATIN1_CRLF_BOM.replace(b"RUN echo caf\xe9 > /x\r\nRUN echo two\r\n", merged)
    run("minid", "-o", "Dockerfile", "Dockerfile", cwd=workdir)
    assert (workdir / "Dockerfile").read_bytes() == out


def test_dignore_and_castage_read_it(workdir: Path) -> None:
    assert b"dignore" in run("dignore", "-f", "Dockerfile", ".", cwd=workdir)
    assert b"Stages built: base unused latest" in run("castage", "-i", "app", "Dockerfile", cwd=workdir)
