# Build stage: compile the release binary (pure-Rust PostgreSQL driver: no libpq needed).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY benches ./benches
RUN cargo build --release --locked

# Runtime stage: a slim image running as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app createspace \
    && mkdir -p /app/data/files && chown -R createspace /app
WORKDIR /app
COPY --from=build /src/target/release/createspace /usr/local/bin/createspace
USER createspace
ENV HOST=0.0.0.0 PORT=8080 LOG_FORMAT=json APP_ENV=production STORAGE_DIR=/app/data/files
# Uploaded files, unless S3_BUCKET points at an object store.
VOLUME /app/data/files
EXPOSE 8080
# /dev/tcp is a bash feature (the slim image has bash; its /bin/sh is dash).
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["createspace"]
CMD ["serve"]
