#!/usr/bin/env bash
# Packages a built clausewatch for one target as a release asset: the binary at the top
# of the archive with README, CHANGELOG, licences, shell completions and the man page
# (both written by the binary itself, from its clap definitions), and `<asset>.sha256`
# beside it. Used by the release workflow and by CI, which serves the result to the
# action as a fake release.
#
# Usage: package.sh TARGET [OUT-DIR]   (run from the repository root after
#        `cargo build --release --target TARGET`); prints the asset's name.
set -euo pipefail
target="$1"
out="${2:-dist}"
exe=clausewatch
case "$target" in *windows*) exe=clausewatch.exe ;; esac
binary="target/$target/release/$exe"
staging="$out/clausewatch-$target"
rm -rf "$staging"
mkdir -p "$staging/completions" "$staging/man"
cp "$binary" README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE "$staging/"
"$binary" completions bash > "$staging/completions/clausewatch.bash"
"$binary" completions zsh > "$staging/completions/_clausewatch"
"$binary" completions fish > "$staging/completions/clausewatch.fish"
"$binary" completions powershell > "$staging/completions/_clausewatch.ps1"
"$binary" completions elvish > "$staging/completions/clausewatch.elv"
"$binary" man > "$staging/man/clausewatch.1"
cd "$staging"
case "$target" in
    *windows*)
        asset="clausewatch-$target.zip"
        7z a -bd "../$asset" . > /dev/null
        ;;
    *)
        asset="clausewatch-$target.tar.gz"
        tar -czf "../$asset" ./*
        ;;
esac
cd ..
if command -v sha256sum > /dev/null; then sha256sum "$asset" > "$asset.sha256"; else shasum -a 256 "$asset" > "$asset.sha256"; fi
echo "$asset"
