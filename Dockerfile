# Multi-stage build: a static binary on an empty base, run as non-root,
# with CA certificates (Slack, Clerk over TLS) and time zones.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/clerk-incident-bot ./cmd/clerk-incident-bot
# The chart drawer, run once per chart: the idle bot holds no plotting fonts.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/clerk-incident-chart ./cmd/clerk-incident-chart

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/clerk-incident-bot /clerk-incident-bot
COPY --from=build /out/clerk-incident-chart /clerk-incident-chart
COPY contacts.yml /etc/clerk-incident-bot/contacts.yml
ENV HTTP_ADDR=:8080 CONTACTS_FILE=/etc/clerk-incident-bot/contacts.yml
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["/clerk-incident-bot", "healthcheck"]
ENTRYPOINT ["/clerk-incident-bot"]
