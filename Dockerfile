# opsbot in a container: a static binary on a distroless base, running as non-root.
# docker build -t opsbot . && docker run -v $PWD/opsbot.toml:/etc/opsbot/opsbot.toml -v opsbot-data:/var/lib/opsbot opsbot
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /opsbot ./cmd/opsbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /opsbot /usr/local/bin/opsbot
VOLUME /var/lib/opsbot
WORKDIR /var/lib/opsbot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/opsbot", "-config", "/etc/opsbot/opsbot.toml"]
