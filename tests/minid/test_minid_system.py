"""Real builds: each realistic Dockerfile and minid's output, built by the classic builder, BuildKit and buildah on the
busybox base, give the same final filesystem and config, with fewer layers and an image that is not bigger. RUN
--mount steps (cache, bind from a stage, tmpfs) merge and build the same on BuildKit and buildah."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from dockit.merge import minify
from tests.system.docker_fixtures import BASE_IMAGE, Builder

pytestmark = pytest.mark.system

MINID = str(Path(sys.executable).with_name("minid"))

# Each step leaves evidence of the shell state it saw, so a leak (cwd, variables, umask, options, traps, exit) shows
# in the final filesystem. No hardlinks across RUNs: a merged layer would store them as links, separate layers as
# copies, a difference in the archive, not in the build.
APP = f"""\
FROM {BASE_IMAGE}
LABEL org.opencontainers.image.title="demo app"
LABEL org.opencontainers.image.version=1.0
LABEL maintainer "Jane Doe <jane@example.org>"
ENV APP_HOME /srv/app
ENV PATH=/srv/app/bin:$PATH MODE=prod
ENV GREETING="hello $MODE"
WORKDIR /srv/app
RUN mkdir -p bin conf && cd conf && echo "mode=$MODE" > app.conf # write the config
RUN umask 077 && echo secret > /srv/app/conf/secret
RUN touch conf/after-umask
RUN export LEAK=1; cd /tmp; echo "cwd=$(pwd) leak=${{LEAK-}}" > /srv/app/state
RUN echo "cwd=$(pwd) leak=${{LEAK-none}}" >> /srv/app/state
COPY files/a.txt files/b.txt ./
COPY files/c.txt ./
COPY --chown=1000:1000 files/owned.txt conf/
COPY --chown=1000:1000 ["files/owned 2.txt", "conf/"]
RUN set -eu; for f in a b c; do cp $f.txt bin/$f; done; chmod 755 bin/*
RUN rm -f a.txt && ln -s bin/a a-link
USER app
CMD ["/bin/sh"]
"""

MULTI = f"""\
FROM {BASE_IMAGE} AS build
WORKDIR /src
COPY files/ ./
# prepare the output directory
RUN mkdir -p /out
RUN cat a.txt b.txt > /out/ab.txt
RUN trap 'echo cleaned > /out/trap' EXIT; echo build > /out/log
RUN test -f /out/trap && echo trap-ran >> /out/log
RUN f() {{ echo "from a function" >> /out/log; }}; f
RUN type f >/dev/null 2>&1 || echo "no function here" >> /out/log

FROM {BASE_IMAGE}
COPY --from=build /out/ab.txt /app/
COPY --from=build /out/log /app/
COPY --from=build /out/trap /app/
RUN exit 0
RUN echo after-exit > /app/after
ENV A=1
ENV B 2
ENV C="${{A}}-${{B}}"
"""

ERREXIT = f"""\
# escape=`
FROM {BASE_IMAGE}
SHELL ["/bin/sh", "-e", "-c"]
RUN echo one > /one `
    && echo two > /two
RUN false || echo recovered > /recovered # a comment that must not swallow the next step
RUN mkdir /d; cd /d; echo in-d > here
RUN echo "pwd=$(pwd) opts=$-" > /pwd.txt
RUN set +e; false; echo "went on" > /went-on
RUN echo "opts=$-" > /opts-after
ENV A=1
ENV B 'two words'
COPY files/a.txt /e/
COPY ["files/owned 2.txt", "/e/"]
"""

CASES = {"app": (APP, 11, 4), "multi": (MULTI, 12, 4), "errexit": (ERREXIT, 8, 2)}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ctx = tmp_path_factory.mktemp("minid-ctx")
    files = ctx / "files"
    files.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "owned.txt", "owned 2.txt"):
        (files / name).write_text(f"content of {name}\n")
    return ctx


MOUNTS = f"""\
FROM {BASE_IMAGE} AS src
RUN mkdir /src && echo from-src > /src/f
FROM {BASE_IMAGE}
RUN --mount=type=cache,target=/cache echo one > /cache/one
RUN --mount=type=cache,target=/cache cp /cache/one /one-copy
RUN --mount=type=bind,from=src,source=/src,target=/s cp /s/f /f
RUN --mount=type=bind,from=src,source=/src,target=/s cat /s/f /f > /g
RUN --mount=type=tmpfs,target=/t echo x > /t/x && cp /t/x /x
RUN --mount=type=bind,source=files/a.txt,target=/a.txt cp /a.txt /a-copy
RUN ls -a /cache /s /t > /mountpoints 2>&1 || true
"""

CASES["mounts"] = (MOUNTS, 8, 6)  # 8 RUNs: 2+2 with the same mounts merge
# RUN --mount: BuildKit only. The classic builder refuses it; buildah 1.28 cannot bind-mount from a stage it answered
# from its cache ("couldn't find .../src on host to bind mount"), so its second build would need --no-cache: 54 s on
# vfs (targd's system test covers buildah's mounts). Each step costs a second or more on buildah: one case there.
BUILDS = [(c, b) for c in CASES for b in ("classic", "buildkit") if c != "mounts" or b == "buildkit"]
BUILDS.append(("errexit", "buildah"))


@pytest.mark.parametrize(("case", "builder"), BUILDS, indirect=["builder"])
def test_builds_the_same_image_with_fewer_layers(case: str, builder: Builder, context: Path) -> None:
    original, before, after = CASES[case]
    result = minify(original)
    assert [sum(s.before for s in result.stats), sum(s.after for s in result.stats)] == [before, after]
    a = builder.build(context, original, tag=f"minid-{builder.name}/{case}:original")
    b = builder.build(context, result.text, tag=f"minid-{builder.name}/{case}:merged")
    image_a, image_b = builder.export(a.ref), builder.export(b.ref)
    assert image_a == image_b
    assert image_b.layers < image_a.layers
    assert image_b.size() <= image_a.size()
    if case == "app":  # the evidence shows no leak, checked by value
        files = image_b.files
        assert files["/srv/app/conf/after-umask"].mode == 0o644
        assert files["/srv/app/conf/secret"].mode == 0o600
        state = b"cwd=/tmp leak=1\ncwd=/srv/app leak=none\n"
        assert files["/srv/app/state"].sha256 == hashlib.sha256(state).hexdigest()
        assert image_b.config.env[-1] == "GREETING=hello prod"
    if case == "mounts":  # what the mounts gave is in the image; the mounted files are not
        files = image_b.files
        assert {"/one-copy", "/f", "/g", "/x", "/a-copy"} <= files.keys()
        assert not {"/cache/one", "/s/f", "/t/x", "/a.txt"} & files.keys()


@pytest.mark.parametrize("builder", ["classic", "buildkit"], indirect=True)  # minid build runs docker build
def test_minid_build_pipes_into_docker_build(builder: Builder, context: Path) -> None:
    (context / "Dockerfile.multi").write_text(MULTI)
    tag = f"minid-{builder.name}/multi"
    done = subprocess.run(
        [MINID, "build", "-f", "Dockerfile.multi", "-t", f"{tag}:built", "--network", "none", "."],
        cwd=context,
        env=builder.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = builder.export(f"{tag}:built")
    assert built == builder.export(builder.build(context, MULTI, tag=f"{tag}:plain").ref)
    assert built.layers < builder.export(f"{tag}:plain").layers


# How each builder says that RUN failed.
FAILED = {"classic": "returned a non-zero code: 3", "buildkit": "exit code: 3"}


@pytest.mark.parametrize("builder", list(FAILED), indirect=True)
def test_minid_build_passes_dockers_failure_on(builder: Builder, context: Path) -> None:
    (context / "Dockerfile.fails").write_text(f"FROM {BASE_IMAGE}\nRUN true\nRUN exit 3\n")
    done = subprocess.run(
        [MINID, "-f", "Dockerfile.fails", "build", "--network", "none", "."],
        cwd=context,
        env=builder.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert FAILED[builder.name] in done.stdout + done.stderr


# The merge kinds of issue 19, each leaving evidence: metadata between RUNs (moved after the merged RUN), ENVs
# between RUNs (their values given to the later commands in their subshells, the ENVs kept after), a literal
# assignment, exec form, a background job waited for.
KINDS = f"""\
FROM {BASE_IMAGE}
RUN mkdir -p /w/bin && cd /w && echo "cwd=$(pwd)" > /w/one
LABEL org.example.kind=metadata
EXPOSE 8080
ENV X=one Y="two  words"
HEALTHCHECK NONE
RUN echo "X=$X Y=$Y" > /w/env1
ENV Y=${{X}}-$Y X=it\\'s Z='$X'
STOPSIGNAL SIGTERM
RUN echo "X=$X Y=$Y Z=$Z" > /w/env2
ENV PATH=/w/bin:$PATH
RUN printf '#!/bin/sh\\necho "tool X=$X PATH=$PATH"\\n' > /w/bin/tool && chmod 755 /w/bin/tool
RUN tool > /w/tool.out
RUN X=1 && echo "X=$X" > /w/assign
RUN ["touch", "/w/exec-made"]
RUN (sleep 1; echo late > /w/late) & wait
RUN cat /w/late > /w/late-seen
CMD ["/bin/sh"]
ENTRYPOINT ["/bin/sh", "-c"]
MAINTAINER someone
"""


def test_builders_build_the_new_merge_kinds_the_same(builder: Builder, context: Path) -> None:
    result = minify(KINDS)
    assert [(s.before, s.after) for s in result.stats] == [(9, 1)], result.text
    a = builder.export(builder.build(context, KINDS, tag="minid/kinds:original").ref)
    b = builder.export(builder.build(context, result.text, tag="minid/kinds:merged").ref)
    assert a == b, a.diff(b)
    assert b.layers == a.layers - 8
    expected = {
        "/w/env1": b"X=one Y=two  words\n",
        "/w/env2": b"X=it's Y=one-two  words Z=$X\n",
        "/w/tool.out": b"tool X=it's PATH=/w/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
        "/w/late-seen": b"late\n",
        "/w/assign": b"X=1\n",
    }
    for path, content in expected.items():  # the evidence, by value
        assert b.files[path].sha256 == hashlib.sha256(content).hexdigest(), path
