# syntax=docker/dockerfile:1.7
#
# The posts API server as a container image.
#
#   docker build -t posts-api .
#   docker run --rm -p 8000:8000 posts-api                 # SQLite in /app/posts.db
#   docker compose up --build                               # PostgreSQL, see compose.yaml
#
# Two stages: the release binary is built in the official Rust image (BuildKit cache mounts keep
# the cargo registry and the target directory between builds, so a source change recompiles
# only the crates that changed), then copied alone into a distroless runtime image.

# ---------------------------------------------------------------------------------------------
# Build. Pinned to the toolchain the project is developed with (Cargo.toml's rust-version is
# the minimum, 1.94); bookworm, so its glibc is the runtime image's (Debian 12).
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# .dockerignore admits only the workspace's manifests and crates.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release -p api --locked \
    && install -D -m 0755 target/release/api /out/usr/local/bin/api \
    && install -d -m 0755 /out/app

# ---------------------------------------------------------------------------------------------
# Runtime: distroless "cc" (glibc, libgcc_s, tzdata, CA roots; no shell, no package manager).
# The binary needs nothing else: TLS is rustls with bundled webpki roots (no OpenSSL), SQLite is
# compiled in, and the health check is the binary itself (`api healthcheck`), not curl.
# `:nonroot` runs as uid/gid 65532; in production pin it by digest (@sha256:...).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/usr/local/bin/api /usr/local/bin/api
# The working directory, owned by the runtime user: the SQLite default (posts.db) lives here.
COPY --from=builder --chown=65532:65532 /out/app /app
WORKDIR /app
USER 65532:65532

# Listen on every interface of the container; the rest of the configuration (DATABASE_URL,
# SECRET_KEY, APP_ENV, ...) comes from the environment at run time (see the README).
ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

# GET /ready on HOST:PORT (0.0.0.0 means 127.0.0.1): healthy when the database answers too.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/api", "healthcheck"]

# Exec form: the server is PID 1 and gets SIGTERM itself (graceful stop, SHUTDOWN_TIMEOUT_SECS).
ENTRYPOINT ["/usr/local/bin/api"]
CMD ["serve"]
