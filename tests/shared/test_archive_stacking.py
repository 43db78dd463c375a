"""Whiteouts, opaque directories and overwrites, stacked the way overlayfs does."""

from __future__ import annotations

import io
import tarfile

from dockit.archive.layers import scan_layer
from dockit.archive.model import Layer
from dockit.archive.stacking import stack
from dockit.archive.tarstream import StreamSource


def layer(index: int, *members: tuple[str, int] | str) -> Layer:
    """A layer from real tar bytes: ("path", size) is a file, "path/" a directory, "path=>target" a hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            if isinstance(m, str) and "=>" in m:
                name, target = m.split("=>")
                info = tarfile.TarInfo(name)
                info.type, info.linkname = tarfile.LNKTYPE, target
                tar.addfile(info)
            elif isinstance(m, str):
                info = tarfile.TarInfo(m.rstrip("/"))
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = m[1]
                tar.addfile(info, io.BytesIO(bytes(m[1])))
    entries, _ = scan_layer(StreamSource(io.BytesIO(buf.getvalue()), "t"), "t")
    return Layer(index, f"sha256:{index}", "", entries)


def test_whiteout_deletes_a_file_and_a_directory_tree() -> None:
    base = layer(0, "a/", ("a/x", 10), "d/", ("d/one", 5), "d/sub/", ("d/sub/two", 7))
    top = layer(1, "a/", ("a/.wh.x", 0), (".wh.d", 0))
    result = stack([base, top])
    assert result.wasted_bytes == 22
    assert {h.entry.path for h in result.deleted_by(1)} == {"a/x", "d", "d/one", "d/sub", "d/sub/two"}
    assert "a/x" not in result.final and "d/one" not in result.final and "a" in result.final


def test_opaque_directory_hides_lower_contents_but_keeps_its_own() -> None:
    base = layer(0, "d/", ("d/old", 100), ("keep", 1))
    top = layer(1, "d/", ("d/.wh..wh..opq", 0), ("d/new", 3))
    result = stack([base, top])
    assert result.wasted_bytes == 100
    assert set(result.final) == {"d", "d/new", "keep"}


def test_overwrite_counts_the_lower_copy_only() -> None:
    result = stack([layer(0, ("f", 50)), layer(1, ("f", 60)), layer(2, ("f", 70))])
    assert result.wasted_bytes == 110
    assert sorted((h.layer, h.by, h.how) for h in result.hidden) == [(0, 1, "overwritten"), (1, 2, "overwritten")]
    assert result.wasted_paths() == [("f", 110, 2)]


def test_a_file_replacing_a_directory_hides_its_subtree() -> None:
    result = stack([layer(0, "p/", ("p/a", 4), ("p/b", 6)), layer(1, ("p", 1))])
    assert result.wasted_bytes == 10
    assert result.final["p"][0] == 1


def test_whiteout_in_the_same_layer_does_not_delete_what_that_layer_adds() -> None:
    # rm -rf /d && mkdir /d && echo > /d/new in one RUN: some writers emit a whiteout and the new file together
    result = stack([layer(0, "d/", ("d/old", 9)), layer(1, ("d/.wh.old", 0), ("d/new", 2))])
    assert set(result.final) == {"d", "d/new"}
    assert result.wasted_bytes == 9


def test_recreated_after_delete_is_visible() -> None:
    result = stack([layer(0, ("f", 5)), layer(1, (".wh.f", 0)), layer(2, ("f", 8))])
    assert result.final["f"][0] == 2
    assert result.wasted_bytes == 5


def test_opaque_marker_at_the_root_hides_everything_below() -> None:
    result = stack([layer(0, ("a", 4), "d/", ("d/b", 6)), layer(1, (".wh..wh..opq", 0), ("c", 1))])
    assert result.wasted_bytes == 10
    assert set(result.final) == {"c"}


def test_a_path_written_twice_in_one_layer_keeps_the_last_copy() -> None:
    result = stack([layer(0, ("f", 3), ("f", 5)), layer(1, ("g", 1))])
    assert result.final["f"][1].size == 5
    assert [(h.entry.size, h.by, h.how) for h in result.hidden] == [(3, 0, "overwritten")]


def test_bytes_kept_by_a_visible_hardlink_are_not_wasted() -> None:
    base = layer(0, ("data/big", 100), "data/alias=>data/big", ("data/other", 7), "data/gone=>data/other")
    result = stack([base, layer(1, ("data/.wh.big", 0), ("data/.wh.other", 0), ("data/.wh.gone", 0))])
    assert {h.entry.path for h in result.hidden} == {"data/big", "data/other", "data/gone"}
    assert result.wasted_bytes == 7  # big lives on as data/alias; other's only other name is gone too
