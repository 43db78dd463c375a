"""dockit.reference: image names as docker's reference grammar reads them."""

from __future__ import annotations

import re

import pytest

from dockit.errors import DockitError
from dockit.reference import Reference, check_tag, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app", Reference("app", None, "app")),
        ("team/app:v1.2", Reference("team/app", None, "team/app", tag="v1.2")),
        ("localhost/app", Reference("localhost/app", "localhost", "app")),
        ("localhost:5000/a/b", Reference("localhost:5000/a/b", "localhost:5000", "a/b")),
        ("127.0.0.1:5000/app:x", Reference("127.0.0.1:5000/app", "127.0.0.1:5000", "app", tag="x")),
        ("ghcr.io/o/r@" + DIGEST, Reference("ghcr.io/o/r", "ghcr.io", "o/r", digest=DIGEST)),
        (
            "My-Registry.io/a__b/c-d--e:T_1",
            Reference("My-Registry.io/a__b/c-d--e", "My-Registry.io", "a__b/c-d--e", "T_1"),
        ),
    ],
)
def test_valid_references(text: str, expected: Reference) -> None:
    ref = parse_reference(text)
    assert ref == expected
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no repository name"),
        (":tag", "no repository name"),
        ("App", "must be lower case 'App'"),
        ("team//app", "bad path component ''"),
        ("team/app-", "bad path component 'app-'"),
        ("team/_app", "bad path component '_app'"),
        ("a___b", "bad path component"),
        ("app:", "bad tag ''"),
        ("app:-x", "bad tag '-x'"),
        ("app@sha256:abc", "bad digest"),
        ("a.b_c/app", "bad registry 'a.b_c'"),  # a dot makes it a domain, where "_" is not allowed
        ("host:port/app", "bad registry 'host:port'"),
        ("a" * 256, "longer than 255"),
        ("team/app\n", "bad path component 'app\\n'"),  # "$" would match before a final newline; "\Z" does not
        ("app:v1\n", "bad tag 'v1\\n'"),
        ("localhost:5000\n/app", "bad registry 'localhost:5000\\n'"),
        ("app@" + DIGEST + "\n", "bad digest"),
    ],
)
def test_invalid_references_say_why(text: str, message: str) -> None:
    with pytest.raises(DockitError, match=re.escape(message)):
        parse_reference(text)


def test_tags() -> None:
    assert parse_reference("r/app").name_with_tag("cache-deps") == "r/app:cache-deps"
    assert check_tag("_x.Y-1") == "_x.Y-1"
    check_tag("a" * 128)
    with pytest.raises(DockitError, match="129 characters long; docker allows 128"):
        check_tag("a" * 129)
    with pytest.raises(DockitError, match=r"invalid tag '\.x'"):
        check_tag(".x")
    with pytest.raises(DockitError, match=r"invalid tag 'x\\n'"):
        check_tag("x\n")
