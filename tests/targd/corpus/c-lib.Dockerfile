# syntax=docker/dockerfile:1.4
ARG DEBIAN=bookworm
ARG FLAVOR=release

FROM debian:${DEBIAN} AS toolchain
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake ninja-build \
    && rm -rf /var/lib/apt/lists/*

FROM toolchain AS configure-release
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release

FROM toolchain AS configure-debug
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Debug

FROM configure-${FLAVOR} AS compile
RUN <<EOF
set -e
cmake --build /build
cmake --install /build --prefix /out
EOF

FROM debian:${DEBIAN}-slim
COPY --from=compile /out /usr/local
RUN ldconfig
