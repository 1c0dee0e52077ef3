#!/usr/bin/env bash
# The proto API checks CI runs (.ci/run), offline: no Buf Schema Registry, every import is in proto/ or buf's
# built-in well-known types.
#   buf lint      style rules of buf.yaml (its exceptions say why each is kept)
#   buf breaking  proto/ against the descriptors of the last release (proto/releases/), so a change that would break
#                 a generated client or the wire (a renamed field, a removed method, a new type) fails CI.
# After a release, snapshot it: scripts/check-proto-api.sh --snapshot vX.Y.Z
set -euo pipefail
cd "$(dirname "$0")/.."
buf=node_modules/.bin/buf
# buf caches module data under $HOME by default; a temporary directory keeps CI's home clean.
export BUF_CACHE_DIR="${BUF_CACHE_DIR:-$(mktemp -d)}"

if [[ "${1:-}" == "--snapshot" ]]; then
  release="${2:?usage: $0 --snapshot vX.Y.Z}"
  "$buf" build --exclude-source-info -o "proto/releases/${release}.binpb"
  echo "wrote proto/releases/${release}.binpb"
  exit 0
fi

"$buf" lint
echo "buf lint: proto/ follows buf.yaml"
baseline="$(ls proto/releases/*.binpb | sort -V | tail -n 1)"
"$buf" breaking --against "$baseline"
echo "buf breaking: proto/ is compatible with ${baseline}"
