# escape=`
# Rust CLI for several architectures; the base stage is chosen by the target architecture.
ARG RUST_VERSION=1.79

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION} AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS cook
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release `
      --recipe-path recipe.json

FROM cook AS builder
COPY . .
RUN cargo build --release && `
    cp target/release/tool /tool

FROM alpine:3.20 AS runtime-amd64
RUN apk add --no-cache ca-certificates
FROM alpine:3.20 AS runtime-arm64
RUN apk add --no-cache ca-certificates qemu-arm64

FROM runtime-${TARGETARCH} AS runtime
COPY --from=builder /tool /usr/local/bin/tool
ENTRYPOINT ["tool"]
