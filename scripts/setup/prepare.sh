# Sourced (not run) by scripts/up.sh and .ci/run: makes this clone ready to run and test, doing only what is
# missing, and leaves PATH pointing at the Node.js it chose:
#   1. Debian packages (.ci/install-system-deps.sh; sudo only when not root; skipped when all are present);
#   2. a supported Node.js (NODE_TOOLCHAIN, not GATEHOUSE_*: those are configuration): auto (default) takes the `node` on PATH when it is 22.15 or newer and
#      otherwise the pinned one (.node-version) from the npm registry (scripts/setup/node-toolchain.sh);
#      NODE_TOOLCHAIN=pinned always takes the pinned one (CI); NODE_TOOLCHAIN=system always the one on PATH;
#   3. npm packages (`npm ci`), skipped while package.json, package-lock.json and the Node ABI are those of the last
#      install; native addons build against headers from the npm registry when none match locally (no nodejs.org);
#   4. the compiled build (`npm run build` into dist/), skipped while no source is newer than the last build.

gatehouse_supported_node() {
  # The supported lines: engines in package.json (>=22.15).
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 15) ? 0 : 1)' 2>/dev/null
}

gatehouse_prepare() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

  echo "== Debian packages" >&2
  bash "$root/.ci/install-system-deps.sh" >&2

  echo "== Node.js" >&2
  local mode="${NODE_TOOLCHAIN:-auto}" toolchain=""
  case "$mode" in
    pinned) toolchain="$(bash "$root/scripts/setup/node-toolchain.sh")" ;;
    system) command -v node >/dev/null || { echo "prepare: NODE_TOOLCHAIN=system but no node on PATH" >&2; return 1; } ;;
    auto)
      if ! command -v node >/dev/null || ! gatehouse_supported_node node; then
        toolchain="$(bash "$root/scripts/setup/node-toolchain.sh")"
      fi
      ;;
    *) echo "prepare: NODE_TOOLCHAIN must be auto, pinned or system, not $mode" >&2; return 2 ;;
  esac
  if [ -n "$toolchain" ]; then
    export PATH="$toolchain/bin:$PATH"
    export npm_config_nodedir="$toolchain"
  else
    # node-gyp needs headers of exactly this version; take the configured ones when they match, else the registry's.
    local version configured
    version="$(node -p process.versions.node)"
    configured="$(npm config get nodedir 2>/dev/null || true)"
    if ! grep -qs "define NODE_MAJOR_VERSION ${version%%.*}\$" "${configured:-/nonexistent}/include/node/node_version.h" \
      && [ ! -f "$HOME/.cache/node-gyp/$version/include/node/node_version.h" ]; then
      export npm_config_nodedir="$(bash "$root/scripts/setup/node-toolchain.sh" "$version")"
    fi
  fi
  hash -r
  echo "node $(node --version) at $(command -v node), npm $(npm --version)" >&2
  if ! gatehouse_supported_node node; then
    echo "prepare: warning: Node.js $(node --version) is not a supported line (22.15+ or 24); tests may fail" >&2
  fi

  echo "== npm packages" >&2
  local stamp
  stamp="$(cd "$root" && node -e '
    const { createHash } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    const hash = createHash("sha256");
    for (const f of ["package.json", "package-lock.json"]) hash.update(readFileSync(f));
    console.log(JSON.stringify({ files: hash.digest("hex"), abi: process.versions.modules, platform: process.platform, arch: process.arch }));
  ')"
  if [ -f "$root/node_modules/.gatehouse-install.json" ] && [ "$(cat "$root/node_modules/.gatehouse-install.json")" = "$stamp" ]; then
    echo "node_modules matches package-lock.json and Node ABI $(node -p process.versions.modules): npm ci skipped" >&2
  else
    (cd "$root" && npm ci --no-audit --no-fund >&2)
    printf '%s\n' "$stamp" >"$root/node_modules/.gatehouse-install.json"
  fi
  # bin/gatehouse runs the Node.js the native addons were built for, whatever `node` is first on PATH later.
  command -v node >"$root/node_modules/.gatehouse-node"

  echo "== build (dist/)" >&2
  if [ -f "$root/dist/.build-stamp" ] && [ -z "$(cd "$root" && find src interceptors certs/dev-certificates.ts tsconfig.json tsconfig.build.json package.json package-lock.json scripts/copy-build-assets.mjs -newer dist/.build-stamp -print -quit)" ]; then
    echo "dist/ is newer than every source: build skipped" >&2
  else
    (cd "$root" && npm run --silent build >&2 && touch dist/.build-stamp)
  fi
}

# One prepare at a time per clone: two `npm ci` in one node_modules corrupt it. The lock is released before the
# caller goes on (a gateway started afterwards must not hold it).
mkdir -p "$(dirname "${BASH_SOURCE[0]}")/../../.toolchain"
exec 9>"$(dirname "${BASH_SOURCE[0]}")/../../.toolchain/.prepare.lock"
if ! flock -n 9; then
  echo "prepare: another install is running in this clone; waiting for it" >&2
  flock 9
fi
gatehouse_prepare
flock -u 9
exec 9>&-
