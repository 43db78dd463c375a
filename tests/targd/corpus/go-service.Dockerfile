# syntax=docker/dockerfile:1.7
# A Go API server: modules cached, tests and lint beside the build, a distroless release.
ARG GO_VERSION=1.22
ARG ALPINE_VERSION=3.20

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine${ALPINE_VERSION} AS base
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

FROM base AS build
ARG TARGETOS TARGETARCH
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -o /out/api ./cmd/api

FROM base AS test
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/go/pkg/mod \
    go test ./...

FROM golangci/golangci-lint:v1.59 AS lint-base

FROM base AS lint
RUN --mount=type=bind,target=. \
    --mount=type=bind,from=lint-base,source=/usr/bin/golangci-lint,target=/usr/bin/golangci-lint \
    golangci-lint run

FROM gcr.io/distroless/static-debian12:nonroot AS release
COPY --from=build /out/api /api
USER nonroot:nonroot
ENTRYPOINT ["/api"]
