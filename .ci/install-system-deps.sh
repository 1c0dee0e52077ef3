#!/usr/bin/env bash
# The single list of Debian packages Gatehouse needs. CI (.ci/run), the README
# and deploy/Dockerfile all run this script, so the packages a developer, CI and
# the container image get cannot drift apart.
#
# Usage: .ci/install-system-deps.sh [--runtime | --build]
#   (no argument)  everything for development and CI: speech engines and test
#                  audio, codecs, Prometheus (promtool for deploy/check.sh, a
#                  real server for the metrics test), curl (the security
#                  test sends requests Node's HTTP/2 client refuses to), the native-addon
#                  toolchain, kubectl (for `kubectl kustomize`) when none
#                  is on PATH, and the external benchmark's clients and
#                  servers (bench/external/): Go with Debian's gRPC and
#                  protobuf sources (the load client builds offline from
#                  them), h2load, Python grpcio and protobuf (also the
#                  wire-format test's reference decoder), taskset; and
#                  protoc with the well-known types (npm run check:proto
#                  rebuilds the reflection descriptors); PostgreSQL 15 and
#                  Redis (the tests start real ones in temporary directories:
#                  test/helpers/postgres-server.ts, redis-server.ts);
#                  Chromium (the browser console's test drives it with
#                  playwright-core: test/integration/web-console.test.ts).
#   --runtime      only what the running gateway loads: the PocketSphinx
#                  library and its US English model (the runtime image).
#   --build        only the toolchain `npm ci` needs to build native addons
#                  (better-sqlite3 falls back to node-gyp when no prebuilt
#                  binary fits) (the image's build stage).
set -euo pipefail

runtime_packages=(libpocketsphinx3 pocketsphinx-en-us)
build_packages=(python3 make g++)
dev_packages=(pocketsphinx pocketsphinx-testdata opus-tools sox prometheus curl
  golang-go golang-google-grpc-dev golang-google-protobuf-dev nghttp2-client python3-grpcio python3-protobuf util-linux
  protobuf-compiler libprotobuf-dev
  postgresql-15 redis-server
  chromium)

mode="${1:-all}"
case "$mode" in
  --runtime) packages=("${runtime_packages[@]}") ;;
  --build) packages=("${build_packages[@]}") ;;
  all)
    packages=("${runtime_packages[@]}" "${dev_packages[@]}" "${build_packages[@]}")
    # deploy/check.sh renders the manifests with `kubectl kustomize`. Debian's
    # kubernetes-client (kubectl 1.20, kustomize v2) is enough for our
    # kustomizations; a machine that already has a kubectl (from another
    # repository) keeps it, because the two packages both own /usr/bin/kubectl.
    if ! command -v kubectl >/dev/null 2>&1; then
      packages+=(kubernetes-client)
    fi
    ;;
  *)
    echo "usage: $0 [--runtime | --build]" >&2
    exit 2
    ;;
esac

# Already installed: nothing to do, no apt-get update, no sudo prompt (the second run of scripts/up.sh is fast).
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: all ${#packages[@]} Debian packages present"
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"

# sudo only when not root (a container build or CI runs as root and may have no sudo at all).
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
