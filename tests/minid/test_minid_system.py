"""Real builds: each realistic Dockerfile and minid's output, built by the private Docker daemon and by buildah on the
busybox base, give the same final filesystem and config, with fewer layers and an image that is not bigger."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from minid.merge import minify
from tests.system.docker_fixtures import BASE_IMAGE, Buildah, Dockerd

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


@pytest.mark.parametrize("case", CASES)
def test_daemon_builds_the_same_image_with_fewer_layers(case: str, dockerd: Dockerd, context: Path) -> None:
    original, before, after = CASES[case]
    result = minify(original)
    assert [sum(s.before for s in result.stats), sum(s.after for s in result.stats)] == [before, after]
    a = dockerd.build(context, original, tag=f"minid/{case}:original")
    b = dockerd.build(context, result.text, tag=f"minid/{case}:merged")
    image_a, image_b = dockerd.export(a.ref), dockerd.export(b.ref)
    assert image_a == image_b
    assert image_b.layers < image_a.layers
    size = [int(dockerd.docker("image", "inspect", "-f", "{{.Size}}", r).stdout) for r in (a.ref, b.ref)]
    assert size[1] <= size[0]
    if case == "app":  # the evidence shows no leak, checked by value
        files = image_b.files
        assert files["/srv/app/conf/after-umask"].mode == 0o644
        assert files["/srv/app/conf/secret"].mode == 0o600
        state = b"cwd=/tmp leak=1\ncwd=/srv/app leak=none\n"
        assert files["/srv/app/state"].sha256 == hashlib.sha256(state).hexdigest()
        assert image_b.config.env[-1] == "GREETING=hello prod"


@pytest.mark.parametrize("case", ["errexit"])  # one case: each build step costs about a second here
def test_buildah_builds_the_same_image_with_fewer_layers(case: str, buildah: Buildah, context: Path) -> None:
    original = CASES[case][0]
    image_a = buildah.export(buildah.build(context, original, tag=f"minid/{case}:original").ref)
    image_b = buildah.export(buildah.build(context, minify(original).text, tag=f"minid/{case}:merged").ref)
    assert image_a == image_b
    assert image_b.layers < image_a.layers
    assert image_b.size() <= image_a.size()


def test_minid_build_pipes_into_docker_build(dockerd: Dockerd, context: Path) -> None:
    (context / "Dockerfile.multi").write_text(MULTI)
    done = subprocess.run(
        [MINID, "build", "-f", "Dockerfile.multi", "-t", "minid/multi:built", "--network", "none", "."],
        cwd=context,
        env=dockerd.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = dockerd.export("minid/multi:built")
    assert built == dockerd.export(dockerd.build(context, MULTI, tag="minid/multi:plain").ref)
    assert built.layers < dockerd.export("minid/multi:plain").layers


def test_minid_build_passes_dockers_failure_on(dockerd: Dockerd, context: Path) -> None:
    (context / "Dockerfile.fails").write_text(f"FROM {BASE_IMAGE}\nRUN true\nRUN exit 3\n")
    done = subprocess.run(
        [MINID, "-f", "Dockerfile.fails", "build", "--network", "none", "."],
        cwd=context,
        env=dockerd.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "returned a non-zero code: 3" in done.stdout + done.stderr
