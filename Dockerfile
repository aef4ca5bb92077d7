# One image for every Xieshang process; services/<name>/ says how each is run.
FROM swift:6.0-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libnghttp2-dev libprotobuf-c-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product xieshang --static-swift-stdlib \
    && cp .build/release/xieshang /usr/local/bin/xieshang

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libnghttp2-14 libprotobuf-c1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/xieshang /usr/local/bin/xieshang
USER nobody
ENTRYPOINT ["/usr/local/bin/xieshang"]
