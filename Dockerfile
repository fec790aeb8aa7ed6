# syntax=docker/dockerfile:1
# kvaudit as a scheduled job: `docker run ... kvaudit run --config /etc/kvaudit/kvaudit.toml`.
# Build: docker build -t kvaudit .   Smoke test: deploy/container/build-and-smoke.sh
# tests/it/container.rs checks this file's shape (stages, user, what the runtime copies).

# The toolchain the project is developed with (rust-version in Cargo.toml is
# the floor, 1.88). Pin by digest too (rust:1.95.0-bookworm@sha256:...) where
# builds must be reproducible.
FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
# The release profile ships stripped. Cache mounts keep the registry and the
# target directory between builds (polars and Cedar take long to compile); the
# binary is copied out of the cache mount because the mount is not in the layer.
# The man page and the bash completion come from the binary's own clap
# definitions, so they always match it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p kvaudit \
    && install -D -m 0755 target/release/kvaudit /out/kvaudit \
    && /out/kvaudit man > /out/kvaudit.1 \
    && /out/kvaudit completions bash > /out/kvaudit.bash

FROM debian:bookworm-slim AS runtime
# CA certificates for HTTPS to Entra ID and Log Analytics (rustls reads the
# system store); nothing else: the binary needs only glibc and libgcc_s.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed UID/GID so that volume permissions (Azure Files, a host directory)
# can be granted ahead of time.
RUN groupadd --system --gid 10001 kvaudit \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/kvaudit \
       --no-create-home --shell /usr/sbin/nologin kvaudit \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/kvaudit \
    && install -d -m 0755 /etc/kvaudit
COPY --from=build /out/kvaudit /usr/local/bin/kvaudit
COPY --from=build /out/kvaudit.1 /usr/share/man/man1/kvaudit.1
COPY --from=build /out/kvaudit.bash /usr/share/bash-completion/completions/kvaudit
# The default policies and the query are embedded in the binary; these copies
# are the starting point for team policies (--policies) and custom queries
# (--query), and what `kvaudit policy test /usr/share/kvaudit/policies` runs.
COPY policies/ /usr/share/kvaudit/policies/
COPY queries/ /usr/share/kvaudit/queries/
USER 10001:10001
WORKDIR /var/lib/kvaudit
# State (Parquet, manifest, lock) and dated reports live here; mount a
# persistent volume, or every run starts from scratch.
VOLUME ["/var/lib/kvaudit"]
ENTRYPOINT ["kvaudit"]
CMD ["run", "--config", "/etc/kvaudit/kvaudit.toml"]
