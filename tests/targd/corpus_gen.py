"""A seeded generator of real-world-style multi-stage Dockerfiles (Go, Node, Python, Rust, Java, C services).

Each file mixes what real multi-stage files do: global ARGs chosen on the command line, per-architecture base stages,
unnamed stages copied from by index, cache and bind mounts, heredocs, comments between and inside stages, line
continuations, lower-case keywords, CRLF line ends, the backtick escape, external images in ``--from``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ECOSYSTEMS = {
    "go": ("golang:${GO_VERSION}-alpine", "GO_VERSION=1.22", "go mod download", "go build -o /out/app ./cmd/app"),
    "node": ("node:${NODE_VERSION}-slim", "NODE_VERSION=20", "npm ci", "npm run build && cp -r dist /out"),
    "python": ("python:${PY}-slim", "PY=3.12", "pip install -r requirements.txt", "python -m build -o /out"),
    "rust": ("rust:${RUST}", "RUST=1.79", "cargo fetch", "cargo build --release && cp target/release/app /out/"),
    "java": ("eclipse-temurin:${JDK}-jdk", "JDK=21", "./gradlew dependencies", "./gradlew jar && cp build/*.jar /out"),
    "c": ("gcc:${GCC}", "GCC=13", "apt-get update", "make -j4 && make install DESTDIR=/out"),
}
RUNTIMES = ["gcr.io/distroless/static", "alpine:3.20", "debian:bookworm-slim", "scratch", "busybox:1.36"]
FILLERS = [
    "WORKDIR /src\n",
    "COPY . .\n",
    "ENV CGO_ENABLED=0 \\\n    GOFLAGS=-trimpath\n",
    'LABEL org.opencontainers.image.source="https://example.invalid/repo"\n',
    "RUN set -eux; \\\n    # keep the layer small\n    echo step > /tmp/step; \\\n    rm -f /tmp/step\n",
    "USER 1000:1000\n",
    "EXPOSE 8080\n",
    "# explain the next step\nRUN true\n",
    "RUN <<EOF\nset -e\necho 'FROM scratch AS fake'\nEOF\n",
    "COPY <<-'CONF' /etc/app.conf\n\tlisten = 8080\n\tCONF\n",
    "RUN --mount=type=cache,target=/root/.cache \\\n    echo cached\n",
    "HEALTHCHECK CMD wget -qO- localhost:8080/health || exit 1\n",
    "ONBUILD COPY --from=0 /a /b\n",
    'SHELL ["/bin/sh", "-c"]\n',
    "ARG BUILD_DATE\n",
]
NAMES = ["deps", "build", "test", "lint", "docs", "tools", "assets", "builder", "compile", "vendor", "gen", "Proto"]


@dataclass
class _Stage:
    name: str | None
    text: list[str]


def generate(seed: int) -> str:
    """One Dockerfile; the same seed always gives the same text."""
    rnd = random.Random(seed)
    eco, (image, arg, fetch, build) = rnd.choice(sorted(ECOSYSTEMS.items()))
    backtick = rnd.random() < 0.08
    lower = rnd.random() < 0.1
    crlf = rnd.random() < 0.08
    out: list[str] = []
    if rnd.random() < 0.5:
        out.append("# syntax=docker/dockerfile:1.7\n")
    if backtick:
        out.append("# escape=`\n")
    out.append(f"\n# {eco} service, generated from seed {seed}\n")
    out.append(f"ARG {arg}\n")
    if rnd.random() < 0.4:
        out.append("ARG RUNTIME=distroless\n")
    out.append("\n")

    stages: list[_Stage] = []
    used_names: set[str] = set()

    def new_name() -> str | None:
        if rnd.random() < 0.2:
            return None
        free = [n for n in NAMES if n.lower() not in used_names]
        if not free:
            return None
        name = rnd.choice(free)
        used_names.add(name.lower())
        return name

    def refer(kind: str) -> str | None:
        """A reference to an earlier stage: its name (any case), or its index for COPY."""
        if not stages:
            return None
        j = rnd.randrange(len(stages))
        name = stages[j].name
        if name is None or (kind == "copy" and rnd.random() < 0.3):
            return str(j) if kind == "copy" else None
        return rnd.choice([name, name.lower(), name.upper()])

    arch = rnd.random() < 0.25
    if arch:
        for a in ("amd64", "arm64"):
            used_names.add(f"base-{a}")
            stages.append(_Stage(f"base-{a}", [f"FROM --platform=linux/{a} {image} AS base-{a}\n", "RUN uname -m\n"]))
    n = rnd.randint(3, 9)
    for _ in range(n):
        name = new_name()
        base_ref = refer("from") if rnd.random() < 0.5 else None
        if arch and rnd.random() < 0.3:
            base = "base-${TARGETARCH}"
        elif base_ref is not None:
            base = base_ref
        else:
            base = rnd.choice([image, "${BUILDPLATFORM_IMAGE:-" + image.split(":")[0] + "}", *RUNTIMES[:3]])
        lines = [
            f"FROM {base}" + (f" AS {name}" if name else "") + "\n"
            if rnd.random() > 0.15
            else f"FROM --platform=$BUILDPLATFORM {base}" + (f" AS {name}" if name else "") + "\n"
        ]
        for _ in range(rnd.randint(0, 5)):
            roll = rnd.random()
            if roll < 0.25:
                ref = refer("copy")
                if ref is not None:
                    lines.append(f"COPY --from={ref} /out /in/{len(lines)}\n")
            elif roll < 0.35:
                ref = refer("mount")
                if ref is not None:
                    lines.append(f"RUN --mount=type=bind,from={ref},target=/m \\\n    ls /m\n")
            elif roll < 0.42:
                lines.append("COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n")
            elif roll < 0.55:
                lines.append(f"RUN {rnd.choice([fetch, build])}\n")
            else:
                lines.append(rnd.choice(FILLERS))
        if rnd.random() < 0.4:
            lines.insert(0, f"# ---- {name or 'stage'} ----\n")
        stages.append(_Stage(name, lines))

    final = ["FROM " + rnd.choice(RUNTIMES) + (" AS release\n" if "release" not in used_names else "\n")]
    for ref in {refer("copy") for _ in range(rnd.randint(1, 3))}:
        final.append(f"COPY --from={ref} /out /app/\n")
    final.append('ENTRYPOINT ["/app/app"]\n')
    stages.append(_Stage("release", final))
    if rnd.random() < 0.3:
        stages.append(_Stage("debug", ["FROM release AS debug\n", "RUN echo debug\n"]))

    for stage in stages:
        out.extend(stage.text)
        out.append(rnd.choice(["\n", "\n", "", "\n\n", "# end of stage\n\n"]))
    text = "".join(out)
    if lower:
        text = "\n".join(_lower_keyword(line) for line in text.split("\n"))
    if backtick:
        text = text.replace(" \\\n", " `\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    return text


def _lower_keyword(line: str) -> str:
    word, _, rest = line.partition(" ")
    if word in {"FROM", "RUN", "COPY", "WORKDIR", "ENV"}:
        return f"{word.lower()} {rest}"
    return line
