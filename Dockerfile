# clausewatch with Debian's Chromium, for any scheduler (cron, a Kubernetes CronJob):
#
#   docker build -t clausewatch .
#   docker run --rm -v "$PWD:/repo" clausewatch track      # in a clone of your archive
#
# The image runs as an unprivileged user (uid 10001); the mounted repository must be
# writable by it (`--user "$(id -u):$(id -g)"` runs as your own user instead).

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
    && install -m 0755 target/release/clausewatch /usr/local/bin/clausewatch

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates chromium fonts-liberation git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin clausewatch
COPY --from=build /usr/local/bin/clausewatch /usr/local/bin/clausewatch
USER clausewatch
# A mounted repository belongs to another uid; git (and libgit2) refuse such a
# repository unless it is named safe. The container exists to work on that one mount.
RUN git config --global --add safe.directory /repo
ENV CLAUSEWATCH_CHROMIUM=/usr/bin/chromium
WORKDIR /repo
ENTRYPOINT ["clausewatch"]
CMD ["track"]
