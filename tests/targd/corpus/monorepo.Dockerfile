# Two services from one repository; each has its own final stage.
ARG NODE=20
ARG GO=1.22

FROM node:${NODE} AS web-deps
COPY web/package.json web/package-lock.json /web/
RUN cd /web && npm ci

FROM web-deps AS web-build
COPY web /web
RUN cd /web && npm run build

FROM golang:${GO} AS api-build
COPY api /api
RUN cd /api && go build -o /out/api .

FROM golang:${GO} AS migrate-build
COPY migrate /migrate
RUN cd /migrate && go build -o /out/migrate .

FROM nginx:1.27 AS web
COPY --from=web-build /web/dist /usr/share/nginx/html

FROM gcr.io/distroless/base AS api
COPY --from=api-build /out/api /api
COPY --from=migrate-build /out/migrate /migrate
ENTRYPOINT ["/api"]

FROM api AS api-debug
COPY --from=busybox:1.36 /bin/busybox /busybox
