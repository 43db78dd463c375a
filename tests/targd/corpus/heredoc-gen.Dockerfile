# syntax=docker/dockerfile:1.7
FROM alpine:3.20 AS gen
RUN <<EOT sh
set -e
mkdir -p /gen
cat > /gen/Dockerfile <<'INNER'
FROM scratch AS fake
COPY --from=0 / /
INNER
EOT

FROM alpine:3.20 AS unrelated
RUN echo unrelated

FROM alpine:3.20
COPY --from=gen /gen /gen
COPY <<EOF /etc/motd
FROM busybox AS not-a-stage
EOF
