#!/usr/bin/env bash
# The README's two commands. Each installs whatever is missing (scripts/setup/prepare.sh: Debian packages, a
# supported Node.js, npm packages, the compiled build; all skipped when already done), then:
#   scripts/up.sh start [serve flags]    starts the gateway from dist/ with development certificates (config/default.yaml)
#   scripts/up.sh test [test files]      runs the test suite (all of it by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command="${1:-}"
case "$command" in
  start | test) shift ;;
  *) echo "usage: scripts/up.sh start [serve flags] | test [test files]" >&2; exit 2 ;;
esac

# shellcheck source=setup/prepare.sh
source scripts/setup/prepare.sh

case "$command" in
  start)
    echo "== gatehouse serve (Ctrl-C stops it; bin/gatehouse in another terminal calls it)" >&2
    exec node dist/src/cli/gatehouse.js serve "$@"
    ;;
  test)
    echo "== tests on Node.js $(node --version)" >&2
    if [ "$#" -gt 0 ]; then
      exec node --import tsx --test --test-concurrency=1 "$@"
    fi
    exec npm test
    ;;
esac
