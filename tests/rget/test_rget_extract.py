"""``rget -X DIR``: the tree equals what ``tar x`` (or busybox ``unzip``) makes of the same archive; hostile archives
are refused with nothing written to DIR or outside it."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.rget.runners import rget
from tests.rget.servers import Site, pattern

KIB = 1024


def tree(root: Path) -> dict[str, object]:
    """Every path under ``root``: file bytes and exec bit, link target, or 'dir'."""
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = (path.read_bytes(), os.access(path, os.X_OK))
    return out


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release-like tree: tool-1.0/{bin/tool (exec), share/doc.txt, lib -> share link, big.bin}."""
    root = tmp_path_factory.mktemp("src")
    top = root / "tool-1.0"
    (top / "bin").mkdir(parents=True)
    (top / "share").mkdir()
    (top / "bin" / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (top / "bin" / "tool").chmod(0o755)
    (top / "share" / "doc.txt").write_text("docs\n")
    (top / "lib").symlink_to("share")
    (top / "big.bin").write_bytes(pattern(700 * KIB, seed=20))
    return root


@pytest.fixture(scope="module")
def archives(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same tree as tar, tar.gz, tar.bz2, tar.xz, tar.zst (GNU tar) and zip (busybox-readable, by Python)."""
    out = tmp_path_factory.mktemp("archives")
    made = {}
    for ext, flag in (("tar", ""), ("tar.gz", "-z"), ("tar.bz2", "-j"), ("tar.xz", "-J"), ("tar.zst", "--zstd")):
        path = out / f"tool.{ext}"
        subprocess.run(["tar", "-c", *([flag] if flag else []), "-f", path, "-C", source, "tool-1.0"], check=True)
        made[ext] = path
    import zipfile

    zpath = out / "tool.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted((source / "tool-1.0").rglob("*")):
            if p.is_symlink():
                continue  # rget refuses links in a zip
            info = zipfile.ZipInfo.from_file(p, str(p.relative_to(source)))
            if p.is_dir():
                z.writestr(info, b"")
            else:
                z.writestr(info, p.read_bytes(), zipfile.ZIP_DEFLATED)
    made["zip"] = zpath
    return made


def reference(archive: Path, into: Path, strip: int, busybox: Path) -> dict[str, object]:
    into.mkdir()
    if archive.suffix == ".zip":
        subprocess.run([str(busybox / "unzip"), "-q", str(archive), "-d", str(into)], check=True)
        if strip:
            raise AssertionError("no strip for zip references")
    else:
        subprocess.run(["tar", "-x", "-f", archive, "-C", into, f"--strip-components={strip}"], check=True)
    return tree(into)


@pytest.mark.parametrize("ext", ["tar", "tar.gz", "tar.bz2", "tar.xz", "tar.zst", "zip"])
def test_tree_equals_tar_x(site: Site, archives: dict[str, Path], ext: str, tmp_path: Path, busybox_path: Path) -> None:
    data = archives[ext].read_bytes()
    name = f"archive-{ext}"  # no extension in the URL: the format comes from the bytes
    site.files[name] = data
    dest = tmp_path / "dest"
    strip = 0 if ext == "zip" else 1
    args = ["-X", dest, "-P", "3", "-b", "0.0625", "--sha256", hashlib.sha256(data).hexdigest()]
    result = rget(site.url(f"/f/{name}"), *args, *(["--strip-components", "1"] if strip else []))
    assert result.returncode == 0, result.stderr
    assert tree(dest) == reference(archives[ext], tmp_path / "ref", strip, busybox_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "ref"]  # the temp dir beside it is gone


def test_extract_into_an_existing_directory_merges(site: Site, archives: dict[str, Path], tmp_path: Path) -> None:
    site.files["merge.tgz"] = archives["tar.gz"].read_bytes()
    dest = tmp_path / "bin"
    dest.mkdir()
    (dest / "other").write_text("kept")
    (dest / "tool").write_text("old")  # replaced, as tar x replaces it
    result = rget(site.url("/f/merge.tgz"), "-X", dest, "--strip-components", "2")
    assert result.returncode == 0, result.stderr
    assert (dest / "other").read_text() == "kept" and (dest / "tool").read_bytes() == b"#!/bin/sh\necho tool\n"
    assert os.access(dest / "tool", os.X_OK)


def _hostile(kind: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        ok = tarfile.TarInfo("fine.txt")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        info = tarfile.TarInfo({"dotdot": "../x", "absolute": "/etc/x"}.get(kind, kind))
        if kind == "symlink-out":
            info.type, info.linkname = tarfile.SYMTYPE, "../../outside"
        elif kind == "hardlink-out":
            info.type, info.linkname = tarfile.LNKTYPE, "../outside"
        elif kind == "device":
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        elif kind == "over-symlink":
            info.type, info.linkname = tarfile.SYMTYPE, "/tmp"
        if info.type == tarfile.REGTYPE:
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        else:
            tar.addfile(info)
        if kind == "over-symlink":
            over = tarfile.TarInfo("over-symlink/pwned")
            over.size = 4
            tar.addfile(over, io.BytesIO(b"evil"))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("kind", "member", "why"),
    [
        ("dotdot", "'../x'", "'..' in its path"),
        ("absolute", "'/etc/x'", "an absolute path"),
        ("symlink-out", "'symlink-out'", "outside the destination"),
        ("hardlink-out", "'hardlink-out'", "a hard link to '../outside': '..' in its path"),
        ("device", "'device'", "is a special file"),
        ("over-symlink", "'over-symlink'", "is a link to an absolute path"),
    ],
)
def test_hostile_archive_is_refused_with_nothing_written(
    site: Site, tmp_path: Path, kind: str, member: str, why: str
) -> None:
    site.files[f"hostile-{kind}"] = _hostile(kind)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "before").write_text("untouched")
    result = rget(site.url(f"/f/hostile-{kind}"), "-X", dest)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"member {member}" in result.stderr and why in result.stderr, result.stderr
    assert tree(dest) == {"before": (b"untouched", False)}  # not even fine.txt: nothing half-extracted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
    assert not (tmp_path.parent / "x").exists() and not Path("/tmp/pwned").exists()


def test_a_hash_mismatch_leaves_the_directory_as_it_was(site: Site, archives: dict[str, Path], tmp_path: Path) -> None:
    site.files["bad.tgz"] = archives["tar.gz"].read_bytes()
    dest = tmp_path / "dest"
    result = rget(site.url("/f/bad.tgz"), "-X", dest, "--sha256", "0" * 64)
    assert result.returncode == 1 and "sha256 mismatch" in result.stderr
    assert list(tmp_path.iterdir()) == []  # not even the DIR this run would have created


def test_not_an_archive_says_so(site: Site, tmp_path: Path) -> None:
    site.files["plain.txt"] = b"hello, not an archive\n" * 100
    result = rget(site.url("/f/plain.txt"), "-X", tmp_path / "d")
    assert result.returncode == 1 and "not a tar, tar.gz/bz2/xz/zst or zip archive" in result.stderr
