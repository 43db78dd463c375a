# syntax=docker/dockerfile:1
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="tools"
LABEL org.opencontainers.image.description "Build tools for CI"
LABEL org.opencontainers.image.licenses=MIT

ENV DEBIAN_FRONTEND noninteractive
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8
ENV TOOLS_HOME=/opt/tools
ENV PATH=$TOOLS_HOME/bin:$PATH

RUN apt-get update
RUN apt-get install -y --no-install-recommends \
        ca-certificates \
        curl \
        git \
        make \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 ci # the CI user
RUN mkdir -p $TOOLS_HOME/bin && cd $TOOLS_HOME && curl -fsSL https://example.invalid/tool.tgz | tar -xz

COPY scripts/entrypoint.sh /usr/local/bin/
COPY scripts/healthcheck.sh /usr/local/bin/
COPY ["scripts/with space.sh", "/usr/local/bin/"]
COPY config.yml /etc/tools/config.yml

USER ci
WORKDIR /home/ci
ENTRYPOINT ["entrypoint.sh"]
