#!/usr/bin/env bash
# Installs the clausewatch binary for this runner, for action.yml: the release asset for
# the runner's platform, verified against its published SHA-256; or, only when no such
# release exists, a build of the action's own source. A checksum that does not match is
# an error, never a reason to build instead.
#
# Environment: VERSION (a tag, or "latest"), REPOSITORY (owner/name), DOWNLOAD_URL
# (optional base instead of https://github.com/REPOSITORY/releases), GITHUB_ACTION_PATH,
# RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT.
set -euo pipefail

case "${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}" in
    Linux-X64 | Linux-x86_64) target=x86_64-unknown-linux-musl ;;
    Linux-ARM64 | Linux-aarch64) target=aarch64-unknown-linux-musl ;;
    macOS-X64 | Darwin-x86_64) target=x86_64-apple-darwin ;;
    macOS-ARM64 | Darwin-arm64) target=aarch64-apple-darwin ;;
    Windows-X64) target=x86_64-pc-windows-msvc ;;
    *) target="" ;;
esac

dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/clausewatch-install"
mkdir -p "$dest"
base="${DOWNLOAD_URL:-https://github.com/${REPOSITORY:-clausewatch/clausewatch}/releases}"
base="${base%/}"
if [ "${VERSION:-latest}" = latest ]; then
    url="$base/latest/download"
else
    url="$base/download/$VERSION"
fi

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# Prints the HTTP status; the body goes to $2. 000 means no answer at all.
download() {
    curl --location --silent --show-error --retry 3 --retry-delay 2 \
        --output "$2" --write-out '%{http_code}' "$1" || true
}

built_from_source() {
    echo "no release asset for ${target:-this platform} at $url: building clausewatch from source (this takes minutes)"
    cargo install --locked --path "${GITHUB_ACTION_PATH:-$(dirname "$0")/../..}" --root "$dest/build"
    echo "binary=$dest/build/bin/clausewatch" >> "$GITHUB_OUTPUT"
}

if [ -z "$target" ]; then
    built_from_source
    exit 0
fi

if [ "$target" = x86_64-pc-windows-msvc ]; then asset="clausewatch-$target.zip"; else asset="clausewatch-$target.tar.gz"; fi
status=$(download "$url/$asset" "$dest/$asset")
case "$status" in
    200) ;;
    404)
        built_from_source
        exit 0
        ;;
    *)
        echo "::error::could not download $url/$asset (HTTP $status)"
        exit 1
        ;;
esac
status=$(download "$url/$asset.sha256" "$dest/$asset.sha256")
if [ "$status" != 200 ]; then
    echo "::error::$url/$asset.sha256 is missing (HTTP $status): refusing an unverified binary"
    exit 1
fi
expected=$(cut -d' ' -f1 < "$dest/$asset.sha256" | tr -d '\r\n')
actual=$(sha256 "$dest/$asset")
if [ "$expected" != "$actual" ]; then
    echo "::error::checksum mismatch for $asset: expected $expected, got $actual"
    exit 1
fi
echo "verified $asset (SHA-256 $actual)"

mkdir -p "$dest/bin"
if [ "${asset##*.}" = zip ]; then
    unzip -o -q "$dest/$asset" -d "$dest/bin"
    binary="$dest/bin/clausewatch.exe"
else
    tar -xzf "$dest/$asset" -C "$dest/bin"
    binary="$dest/bin/clausewatch"
fi
"$binary" --version
echo "binary=$binary" >> "$GITHUB_OUTPUT"
