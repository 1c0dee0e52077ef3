#!/usr/bin/env bash
# Checks everything under deploy/ without a cluster or a Docker engine:
#   1. `kubectl kustomize` renders the base and every overlay;
#   2. scripts/deploy/check-manifests.ts: the rendered objects validate against
#      the Kubernetes and CRD schemas (strictly: unknown fields fail), the
#      probes are native grpc on the health-only port 8081, drain timing,
#      hardening, Services, HPA, PDB, NetworkPolicy, cert-manager mounts,
#      PodMonitor, order storage (never emptyDir, never SQLite beyond one
#      replica: scripts/deploy/storage-checks.ts), the production config loads through the server's own
#      loader, the Dockerfile, the Grafana dashboard, and the generated
#      PrometheusRule;
#   3. promtool: check config, check rules, test rules, and every dashboard
#      query parses as PromQL.
# Needs: kubectl and promtool (.ci/install-system-deps.sh), node_modules (npm ci).
# Usage: bash deploy/check.sh        (KUBECTL=/path/to/kubectl to pick one)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
kubectl="${KUBECTL:-kubectl}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

# Runs a step; its output is shown only when it fails.
step() {
  local name="$1"
  shift
  if "$@" >"$work/step.log" 2>&1; then
    pass "$name"
  else
    fail "$name"
    sed 's/^/    /' "$work/step.log"
  fi
}

missing=()
command -v "$kubectl" >/dev/null 2>&1 || missing+=("kubectl (run .ci/install-system-deps.sh)")
command -v promtool >/dev/null 2>&1 || missing+=("promtool (run .ci/install-system-deps.sh)")
[ -d node_modules/kubernetes-models ] || missing+=("node_modules (run npm ci)")
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'deploy/check.sh: missing %s\n' "${missing[@]}" >&2
  exit 2
fi

# 1. Render. kustomize v5 warns that the overlays' `bases`/`patches*` fields
#    are deprecated (kept for kubectl 1.20's kustomize v2); other warnings show.
kubectl_version="$("$kubectl" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -n1)"
rendered=()
# The base renders but is no deployment by itself (it has no order storage):
# only the overlays are checked as workloads.
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  if "$kubectl" kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.stderr"; then
    pass "kubectl kustomize $dir (kubectl $kubectl_version)"
    grep -v "is deprecated. Please use 'resources'\|is deprecated. Please use 'patches'" "$work/$name.stderr" | sed 's/^/    /' || true
    [ "$name" = base ] || rendered+=(--rendered "$name=$work/$name.yaml")
  else
    fail "kubectl kustomize $dir"
    sed 's/^/    /' "$work/$name.stderr"
  fi
done

# 2. Node checks (prints its own ok / not ok lines).
if node --import tsx scripts/deploy/check-manifests.ts "${rendered[@]}" \
  --dashboard-rules-out "$work/dashboard-queries.rules.yml"; then
  pass "scripts/deploy/check-manifests.ts"
else
  fail "scripts/deploy/check-manifests.ts"
fi

# 3. Prometheus.
step "promtool check config deploy/prometheus/prometheus.yml" \
  promtool check config deploy/prometheus/prometheus.yml
step "promtool check rules deploy/prometheus/rules/gatehouse.rules.yml" \
  promtool check rules deploy/prometheus/rules/gatehouse.rules.yml
step "promtool test rules deploy/prometheus/rules/gatehouse.rules.test.yml" \
  promtool test rules deploy/prometheus/rules/gatehouse.rules.test.yml
if [ -s "$work/dashboard-queries.rules.yml" ]; then
  step "promtool check rules: every Grafana dashboard query is valid PromQL" \
    promtool check rules "$work/dashboard-queries.rules.yml"
else
  fail "promtool check rules: every Grafana dashboard query is valid PromQL (no queries extracted)"
fi

# 4. Scripts the image and CI run.
step "bash -n .ci/install-system-deps.sh" bash -n .ci/install-system-deps.sh
step "node --check deploy/healthcheck.mjs" node --check deploy/healthcheck.mjs

echo "deploy/check.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
