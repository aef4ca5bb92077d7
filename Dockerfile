# One image for every Xieshang process: `xieshang serve gateway|directory|intake|proposals|
# consultation|analytics|notify` and `xieshang interop-server`. docker-compose.yml runs each as its own
# container; services/<name>/README.md says how each one is run and configured.
#
#   docker build -t xieshang:latest .
#   docker run --rm xieshang:latest serve --help

# ---- build: the Swift toolchain (same minor version as development) and the -dev packages of
# the system-library modules (Sources/C*/module.modulemap: nghttp2, protobuf-c, sqlite3, pq, sodium).
FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       pkg-config libnghttp2-dev libprotobuf-c-dev libsqlite3-dev libpq-dev libsodium-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that a source change does not fetch them again. Package.resolved is
# taken when the checkout has one (Package.* always matches Package.swift).
COPY Package.* ./
RUN swift package resolve
# The generated protobuf code is committed under Sources/, so protoc and protos/ are not needed.
# Tests/ is copied because the manifest declares its targets (SwiftPM checks their folders).
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product xieshang --static-swift-stdlib \
    && install -m 0755 "$(swift build -c release --show-bin-path)/xieshang" /usr/local/bin/xieshang

# ---- runtime: only the shared libraries the binary links (the Swift runtime is static).
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libnghttp2-14 libprotobuf-c1 libsqlite3-0 libpq5 libsodium23 libstdc++6 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
# An unprivileged user owning /data, where SQLite files go when XIESHANG_DATABASE_URL is empty.
RUN groupadd --system --gid 10001 xieshang \
    && useradd --system --uid 10001 --gid xieshang --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin xieshang \
    && mkdir -p /data && chown xieshang:xieshang /data && chmod 0750 /data
COPY --from=build /usr/local/bin/xieshang /usr/local/bin/xieshang
# Inside a container a service listens on every interface; its port is the service's default
# (gateway 50060, directory 50061, intake 50062, proposals 50063, consultation 50064, analytics 50065,
# notify 50066)
# unless XIESHANG_PORT says otherwise.
ENV XIESHANG_HOST=0.0.0.0 \
    XIESHANG_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
USER xieshang:xieshang
# Graceful shutdown (GOAWAY, drain) happens on SIGTERM, which is what `docker stop` sends.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/xieshang"]
CMD ["--help"]
