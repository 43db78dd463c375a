FROM golang:1.23 AS builder
WORKDIR /src
COPY . .
RUN go build -o /app .

FROM gcr.io/distroless/static
COPY --from=builder /app /app
ENTRYPOINT ["/app"]
