"""``rget -i FILE``: five downloads, one broken; each verified and placed on its own; --checksums."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.rget.runners import RGET, rget
from tests.rget.servers import Site, pattern

KIB = 1024


def test_one_broken_url_among_five_is_reported_and_the_others_finish(site: Site, tmp_path: Path) -> None:
    files = {f"m{i}.bin": pattern((100 + 37 * i) * KIB, seed=30 + i) for i in range(4)}
    site.files.update(files)
    sums = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items())
    (tmp_path / "SHA256SUMS").write_text(sums)
    lines = [site.url(f"/f/{n}") for n in files][:3]
    lines.insert(2, site.url("/status/404") + " broken.bin")
    lines.append(f"{site.url('/f/m3.bin')} renamed.bin")  # its checksums line names m3.bin: PATH's name rules
    manifest = tmp_path / "list.txt"
    manifest.write_text("# five assets\n" + "\n".join(lines) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    argv = [str(RGET), "-i", str(manifest), "-o", "out/", "-P", "4", "--per-file", "2", "--checksums"]
    result = subprocess.run([*argv, str(tmp_path / "SHA256SUMS")], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert errors[0] == f"rget: {site.url('/status/404')}: 'broken.bin' is not in the checksums file", errors
    assert errors[-2] == f"rget: {site.url('/f/m3.bin')}: 'renamed.bin' is not in the checksums file"
    assert errors[-1] == "rget: 2 of 5 downloads failed"
    for name in list(files)[:3]:
        assert (out / name).read_bytes() == files[name]
    assert sorted(p.name for p in out.iterdir()) == ["m0.bin", "m1.bin", "m2.bin"]


def test_manifest_from_stdin_with_paths_and_hashes(site: Site, tmp_path: Path) -> None:
    good, other = pattern(64 * KIB, seed=40), pattern(80 * KIB, seed=41)
    site.files.update({"s1.bin": good, "s2.bin": other})
    text = (
        f"{site.url('/f/s1.bin')} a.bin {hashlib.sha256(good).hexdigest()}\n"
        f"{site.url('/f/s2.bin')} b.bin {'0' * 64}\n"
        f"{site.url('/status/404')} c.bin\n"
    )
    result = subprocess.run(
        [str(RGET), "-i", "-", "-P", "2", "--per-file", "1"], input=text, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 1
    assert (tmp_path / "a.bin").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]  # no half-written b.bin or c.bin
    assert "sha256 mismatch" in result.stderr and "HTTP 404 Not Found" in result.stderr


def test_bad_manifest_line_is_usage_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "m").write_text("https://ok.example/a\n\nnot-a-url x\n")
    result = rget("-i", tmp_path / "m")
    assert (
        result.returncode == 2
        and result.stderr == f"rget: {tmp_path / 'm'}:3: not-a-url: only http:// and https:// URLs\n"
    )


def test_checksums_for_one_download(site: Site, tmp_path: Path) -> None:
    data = pattern(50 * KIB, seed=42)
    site.files["tool.tar.gz"] = data
    site.files["SHA256SUMS"] = f"{hashlib.sha256(data).hexdigest()}  tool.tar.gz\n".encode()
    out = tmp_path / "tool.tar.gz"
    ok = rget(site.url("/f/tool.tar.gz"), "-o", out, "--checksums", site.url("/f/SHA256SUMS"))
    assert ok.returncode == 0 and out.read_bytes() == data, ok.stderr
    site.files["SHA256SUMS"] = f"{'1' * 64}  tool.tar.gz\n".encode()
    bad = rget(site.url("/f/tool.tar.gz"), "-o", tmp_path / "x.tar.gz", "--checksums", site.url("/f/SHA256SUMS"))
    assert bad.returncode == 1 and "'x.tar.gz' is not in the checksums file" in bad.stderr
    mismatch = rget(
        site.url("/f/tool.tar.gz"), "-o", tmp_path / "tool.tar.gz", "--checksums", site.url("/f/SHA256SUMS")
    )
    assert mismatch.returncode == 1 and "sha256 mismatch" in mismatch.stderr
