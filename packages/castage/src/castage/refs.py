"""The names a stage's build reads its cache from and writes its image and cache to, for every mode.

A stage's image is ``IMAGE:KEY`` (``KEY``: the stage's name, ``stage-N``, or the final tag). Its cache is that image
(inline cache), ``IMAGE:cache-KEY`` (registry) or the GitHub Actions scope ``PREFIX/KEY`` (``PREFIX``: the image's
path, or ``--scope-prefix``), so two images of a monorepo never share a scope: a stage name holds no ``/``, so
``acme/web`` + ``api-build`` and ``acme/web-api`` + ``build`` stay apart. With a branch,
each name gets ``-BRANCH``: a build reads its branch's cache first and the default branch's second, and writes only
its branch's, so a pull request warms up from main's cache and never overwrites it. The one name without ``-BRANCH``
is the ``release`` key (the final tag of an unnamed last stage, ``latest``) on the default branch: the image main
ships is ``IMAGE:latest``, as CI users expect (and as without ``--branch``), and other branches read its cache second.
Stage names keep the suffix on the default branch too: a stage ``build-x`` on main is ``build-x-main``, so no branch
``x`` can write it as its ``build``. Where names still meet (``--final-tag v1-main`` next to a stage ``v1``), the
generator refuses the script (:func:`first_clash`).

>>> names = Names("ghcr.io/acme/api", "acme/api", Cache.GHA, branch="feature-x", default_branch="main")
>>> names.image("build")
'ghcr.io/acme/api:build-feature-x'
>>> names.cache_from("build")
['type=gha,scope=acme/api/build-feature-x', 'type=gha,scope=acme/api/build-main']
>>> names.cache_to("build")
'type=gha,scope=acme/api/build-feature-x,mode=max'
>>> Names("r/app", "r/app", Cache.REGISTRY, branch="pr-7", release="latest").cache_from("latest")
['type=registry,ref=r/app:cache-latest-pr-7', 'type=registry,ref=r/app:cache-latest']
>>> Names("r/app", "r/app", Cache.REGISTRY, branch="main", release="latest").image("latest")
'r/app:latest'
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from castage.mode import Cache
from dockit.reference import check_tag


@dataclass(frozen=True)
class Names:
    """``repository`` is the image without a tag (``ghcr.io/acme/api``), ``path`` its path (``acme/api``);
    ``branch`` and ``default_branch`` are already words a tag can hold (:func:`dockit.reference.tag_part`);
    ``release`` is the key tagged without a branch on the default branch (None: every key gets the branch)."""

    repository: str
    path: str
    cache: Cache
    branch: str | None = None
    default_branch: str = "main"
    scope_prefix: str | None = None
    image_manifest: bool = False
    release: str | None = None

    def _suffix(self, key: str, branch: str) -> str:
        return "" if key == self.release and branch == self.default_branch else f"-{branch}"

    def _write_suffix(self, key: str) -> str:
        return "" if self.branch is None else self._suffix(key, self.branch)

    def _read_suffixes(self, key: str) -> list[str]:
        if self.branch is None:
            return [""]
        return list(dict.fromkeys([self._suffix(key, self.branch), self._suffix(key, self.default_branch)]))

    def tag(self, key: str) -> str:
        """The tag the stage's image gets: ``KEY``, or ``KEY-BRANCH``."""
        return key + self._write_suffix(key)

    def image(self, key: str) -> str:
        """The image the stage's build is tagged (and, with inline cache, pushed) as."""
        return f"{self.repository}:{self.tag(key)}"

    def images_read(self, key: str) -> list[str]:
        """The stage images an inline-cache build pulls and uses as ``--cache-from``: its branch's, then main's."""
        return [f"{self.repository}:{key}{s}" for s in self._read_suffixes(key)]

    def cache_from(self, key: str) -> list[str]:
        """The ``--cache-from`` values for the stage's own cache (inline: its images)."""
        return [self._cache(key, s) for s in self._read_suffixes(key)]

    def cache_to(self, key: str) -> str:
        """The ``--cache-to`` value (registry or gha cache only)."""
        extra = ",image-manifest=true,oci-mediatypes=true" if self.image_manifest else ""
        return self._cache(key, self._write_suffix(key)) + ",mode=max" + extra

    def written(self, key: str) -> list[str]:
        """What the stage's build writes: its image and its cache (an inline cache is the image). A registry cache is a
        tag of the image's repository, so it is written as ``IMAGE:cache-KEY``, comparable with other stages' images.

        >>> Names("r/app", "r/app", Cache.REGISTRY).written("x")
        ['r/app:x', 'r/app:cache-x']
        """
        image = self.image(key)
        if self.cache is Cache.INLINE:
            return [image]
        cache = self._cache(key, self._write_suffix(key))
        return [image, cache.removeprefix("type=registry,ref=")]

    def _cache(self, key: str, suffix: str) -> str:
        if self.cache is Cache.INLINE:
            return f"{self.repository}:{key}{suffix}"
        if self.cache is Cache.GHA:
            prefix = self.path if self.scope_prefix is None else self.scope_prefix
            return f"type=gha,scope={prefix}/{key}{suffix}"
        return f"type=registry,ref={self.repository}:cache-{key}{suffix}"

    def on_default_branch(self) -> Names | None:
        """The names the default branch's script gives (None: this is that script, or there are no branches)."""
        if self.branch is None or self.branch == self.default_branch:
            return None
        return replace(self, branch=self.default_branch)

    def check(self, key: str) -> None:
        """DockitError when a tag the stage's build would read or write is not one docker takes."""
        for suffix in {self._write_suffix(key), *self._read_suffixes(key)}:
            check_tag(key + suffix)
            if self.cache is Cache.REGISTRY:
                check_tag(f"cache-{key}{suffix}")


def first_clash(names: Names, keys: list[str], others: Names | None = None) -> tuple[str, str, str] | None:
    """The first ref two stages would both write, as ``(key, other key, ref)``; None when every ref is distinct.

    With ``others``, the refs of ``keys`` under ``names`` are compared with those under ``others`` instead (a branch's
    script against the default branch's: the branch must write none of them).

    >>> main = Names("r/app", "r/app", Cache.REGISTRY, branch="main", release="v1-main")
    >>> first_clash(main, ["v1", "v1-main"])
    ('v1', 'v1-main', 'r/app:v1-main')
    >>> pr = replace(main, branch="x", release="build-x")
    >>> first_clash(pr, ["build", "build-x"], pr.on_default_branch())
    ('build', 'build-x', 'r/app:build-x')
    """
    owner: dict[str, str] = {}
    if others is not None:
        for key in keys:
            for ref in others.written(key):
                owner.setdefault(ref, key)
    for key in keys:
        for ref in names.written(key):
            first = owner.get(ref)
            if first is not None and (others is not None or first != key):
                return (key, first, ref) if others is not None else (first, key, ref)
            if others is None:
                owner[ref] = key
    return None
