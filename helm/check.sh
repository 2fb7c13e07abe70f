#!/usr/bin/env bash
# Offline checks of the costwatch Helm chart (no cluster needed):
#   1. helm lint --strict, with the default values and with helm/ci-values.yaml;
#   2. helm template with both, then assertions on the rendered manifests (grep/awk);
#   3. values.schema.json must reject bad values (aggregator.replicas: 2, ...).
# Installs helm (pinned) with `go install` when it is not on PATH. Exits non-zero, naming the
# failed check, on the first failure.
#   usage: helm/check.sh            (env CHART=/path/to/chart to check a copy)
set -euo pipefail

HELM_VERSION=v3.22.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chart=${CHART:-$here/costwatch}
ci_values=$here/ci-values.yaml
config_rs=$here/../services/costwatch/src/distributed/config.rs
export PATH="$HOME/.local/bin:$PATH:/usr/local/go/bin"
start=$SECONDS

reported=
fail() { reported=1; echo "check.sh: FAIL: $*" >&2; exit 1; }
tmp=
on_exit() {
  local rc=$?
  [[ -n $tmp ]] && rm -rf "$tmp"
  # An unexpected error (set -e, not a named check) still ends with a FAIL line.
  if (( rc != 0 )) && [[ -z $reported ]]; then
    echo "check.sh: FAIL: unexpected error (exit $rc) in: $BASH_COMMAND" >&2
  fi
}
trap on_exit EXIT
# No `producer | grep -q` below: with pipefail, grep -q exiting early can SIGPIPE the producer
# and turn a match into a failure. Checks grep files, variables or here-strings instead.
ok() { echo "  ok: $*"; }

# --- helm ---------------------------------------------------------------------------------
if ! command -v helm >/dev/null 2>&1; then
  command -v go >/dev/null 2>&1 || fail "helm is missing and go is not installed (/usr/local/go/bin/go) to build it"
  echo "helm not found: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes the first time)"
  t0=$SECONDS
  GOBIN=$HOME/.local/bin go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    || fail "go install helm $HELM_VERSION failed"
  echo "  helm installed in $((SECONDS - t0)) s"
fi
helm_version=$(helm version --short 2>&1 || true)
[[ $helm_version == v3.* ]] || fail "helm 3 is required (found: $helm_version)"
echo "helm $helm_version on $chart"

tmp=$(mktemp -d)
# Helm keeps caches under $HOME; keep them out of the way of other users of the tree.
export HELM_CACHE_HOME=$tmp/cache HELM_CONFIG_HOME=$tmp/config HELM_DATA_HOME=$tmp/data

# --- 1. lint --------------------------------------------------------------------------------
echo "lint"
helm lint --strict "$chart" >"$tmp/lint-default.log" 2>&1 \
  || { cat "$tmp/lint-default.log" >&2; fail "helm lint --strict (default values)"; }
ok "helm lint --strict (default values)"
helm lint --strict "$chart" -f "$ci_values" >"$tmp/lint-ci.log" 2>&1 \
  || { cat "$tmp/lint-ci.log" >&2; fail "helm lint --strict -f ci-values.yaml"; }
ok "helm lint --strict -f ci-values.yaml"

# --- 2. render ------------------------------------------------------------------------------
render() { # name, extra helm args...
  local name=$1; shift
  helm template cw "$chart" --namespace costwatch "$@" >"$tmp/$name.yaml" 2>"$tmp/$name.err" \
    || { cat "$tmp/$name.err" >&2; fail "helm template ($name) failed"; }
}
render default
render ci -f "$ci_values"

# Prints the document (between ---) of the given kind whose metadata.name ends with suffix.
doc() { # file kind name-suffix
  awk -v kind="$2" -v suffix="$3" '
    function flush() { if (k == kind && n ~ ("-" suffix "$")) printf "%s", buf; buf = ""; k = ""; n = "" }
    /^---/ { flush(); next }
    { buf = buf $0 "\n" }
    /^kind: / { k = $2 }
    /^  name: / && n == "" { n = $2 }
    END { flush() }' "$1"
}
count_kind() { grep -c "^kind: $2\$" "$1" || true; }
# The costwatch.toml of a ConfigMap document, unindented.
toml_of() { awk '/^  costwatch.toml: \|/ { on = 1; next } on && /^    / { sub(/^    /, ""); print; next } { on = 0 }'; }

# Every container of every pod template: each must have runAsNonRoot, a read-only root
# filesystem and drop ALL capabilities. Containers are the "- name:" items at 8 spaces under
# "      containers:" (Deployment and Job pod templates); their securityContext keys sit at 12.
check_containers() { # file label
  awk -v label="$2" '
    /^kind: / { kind = $2 }
    /^      containers:$/ { inside = 1; next }
    inside && /^      [^ ]/ { inside = 0 }
    inside && /^        - name: / { containers++; who[containers] = kind "/" $3 }
    inside && /^            runAsNonRoot: true$/ { nonroot[containers] = 1 }
    inside && /^            readOnlyRootFilesystem: true$/ { rofs[containers] = 1 }
    inside && /^ +- ALL$/ { dropall[containers] = 1 }
    END {
      bad = 0
      for (i = 1; i <= containers; i++) {
        if (!nonroot[i]) { print label ": container " who[i] " lacks runAsNonRoot: true"; bad = 1 }
        if (!rofs[i]) { print label ": container " who[i] " lacks readOnlyRootFilesystem: true"; bad = 1 }
        if (!dropall[i]) { print label ": container " who[i] " does not drop ALL capabilities"; bad = 1 }
      }
      if (containers == 0) { print label ": no containers found"; bad = 1 }
      if (!bad) print containers
      exit bad
    }' "$1"
}

# Settings of DistributedConfig (the struct in config.rs): every one must be renderable.
declare -A is_setting=() is_optional=()
if [[ -f $config_rs ]]; then
  mapfile -t all_keys < <(awk '/^pub struct DistributedConfig \{/ { on = 1; next } on && /^\}/ { exit }
    on && /^    pub [a-z_]+:/ { sub(/^    pub /, ""); sub(/:.*/, ""); print }' "$config_rs")
  mapfile -t optional_keys < <(awk '/^pub struct DistributedConfig \{/ { on = 1; next } on && /^\}/ { exit }
    on && /^    pub [a-z_]+: Option</ { sub(/^    pub /, ""); sub(/:.*/, ""); print }' "$config_rs")
  (( ${#all_keys[@]} >= 20 )) || fail "could not read the DistributedConfig keys from $config_rs"
  for key in "${all_keys[@]}"; do is_setting[$key]=1; done
  for key in "${optional_keys[@]}"; do is_optional[$key]=1; done
else
  all_keys=() optional_keys=()
  echo "  note: $config_rs not found; skipping the DistributedConfig key comparison"
fi

check_toml() { # label toml-file expect-optional(yes|no|none)
  local label=$1 file=$2 optional=$3 key
  [[ -s $file ]] || fail "$label: costwatch.toml is empty or missing"
  local rendered
  rendered=$(awk -F' = ' '/^[a-z_]+ = / { print $1 }' "$file")
  for key in "${all_keys[@]}"; do
    if [[ -n ${is_optional[$key]:-} ]]; then
      case $optional in
        yes) grep -qx "$key" <<<"$rendered" || fail "$label: optional setting $key not rendered" ;;
        none) ! grep -qx "$key" <<<"$rendered" || fail "$label: $key must not be rendered here" ;;
      esac
    else
      grep -qx "$key" <<<"$rendered" || fail "$label: setting $key of DistributedConfig is missing"
    fi
  done
  if (( ${#all_keys[@]} )); then
    while read -r key; do
      [[ -n ${is_setting[$key]:-} ]] \
        || fail "$label: $key is not a DistributedConfig setting (the binary rejects unknown keys)"
    done <<<"$rendered"
  fi
  for key in collector_http collector_grpc gateway_http; do
    grep -Eq "^$key = \"(0\.0\.0\.0|\[::\]):[0-9]+\"\$" "$file" \
      || fail "$label: $key must bind 0.0.0.0 or [::] in-cluster: $(grep "^$key" "$file")"
  done
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import tomllib' 2>/dev/null; then
    python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' "$file" \
      || fail "$label: costwatch.toml is not valid TOML"
  fi
}

check_common() { # name
  local name=$1 f=$tmp/$1.yaml n
  echo "assertions: $name"
  n=$(count_kind "$f" Deployment)
  [[ $n == 5 ]] || fail "$name: expected 5 Deployments, rendered $n"
  for s in collector aggregator gateway notifier anomaly-detector; do
    doc "$f" Deployment "$s" >"$tmp/$name-$s.yaml"
    [[ -s $tmp/$name-$s.yaml ]] || fail "$name: no Deployment cw-costwatch-$s"
    grep -qx "            - $s" "$tmp/$name-$s.yaml" \
      && grep -qx "            - --config" "$tmp/$name-$s.yaml" \
      && grep -qx "            - /etc/costwatch/costwatch.toml" "$tmp/$name-$s.yaml" \
      || fail "$name: Deployment $s does not run [$s, --config, /etc/costwatch/costwatch.toml]"
  done
  ok "5 Deployments (collector, aggregator, gateway, notifier, anomaly-detector), each [<service>, --config, /etc/costwatch/costwatch.toml]"

  grep -q '^  replicas: 1$' "$tmp/$name-aggregator.yaml" || fail "$name: aggregator replicas is not 1"
  grep -q '^    type: Recreate$' "$tmp/$name-aggregator.yaml" || fail "$name: aggregator strategy is not Recreate"
  ok "aggregator replicas: 1 (strategy Recreate)"

  doc "$f" Job migrate >"$tmp/$name-job.yaml"
  [[ -s $tmp/$name-job.yaml ]] || fail "$name: no migrate Job rendered"
  grep -q '^    "helm.sh/hook": pre-install,pre-upgrade$' "$tmp/$name-job.yaml" \
    || fail "$name: migrate Job lacks the helm.sh/hook: pre-install,pre-upgrade annotation"
  grep -qx '            - migrate' "$tmp/$name-job.yaml" && grep -qx '            - distributed' "$tmp/$name-job.yaml" \
    || fail "$name: migrate Job does not run migrate --target distributed"
  doc "$f" ConfigMap migrate >"$tmp/$name-migrate-cm.yaml"
  grep -q '^    "helm.sh/hook-weight": "-10"$' "$tmp/$name-migrate-cm.yaml" \
    || fail "$name: the migrate Job's ConfigMap is not a hook created before the Job"
  ok "migrate Job is a pre-install,pre-upgrade hook running migrate --target distributed (its ConfigMap hook first)"

  n=$(check_containers "$f" "$name") || fail "$(printf '%s' "$n")"
  ok "$n containers: runAsNonRoot, readOnlyRootFilesystem, drop ALL"
  n=$(grep -c '^      enableServiceLinks: false$' "$f" || true)
  [[ $n == 6 ]] || fail "$name: expected enableServiceLinks: false on 6 pod templates (Service env vars would collide with COSTWATCH_*), found $n"

  for s in collector gateway; do
    grep -q 'path: /healthz' "$tmp/$name-$s.yaml" || fail "$name: $s has no /healthz probe"
  done
  grep -q 'containerPort: 50051' "$tmp/$name-collector.yaml" || fail "$name: collector has no gRPC port"
  ok "collector and gateway probe /healthz"

  doc "$f" ConfigMap costwatch | toml_of >"$tmp/$name.toml"
  doc "$f" ConfigMap migrate | toml_of >"$tmp/$name-migrate.toml"
  n=$(count_kind "$f" Service)
  [[ $n == 2 ]] || fail "$name: expected 2 Services (collector, gateway), rendered $n"
}

check_common default
check_toml "default costwatch.toml" "$tmp/default.toml" none
check_toml "default migrate costwatch.toml" "$tmp/default-migrate.toml" none
ok "costwatch.toml has every DistributedConfig setting (${#all_keys[@]}), listeners on 0.0.0.0, valid TOML"
for kind in Ingress HorizontalPodAutoscaler PodDisruptionBudget PersistentVolumeClaim; do
  [[ $(count_kind "$tmp/default.yaml" $kind) == 0 ]] || fail "default: $kind must be off by default"
done
grep -q '^  replicas: ' "$tmp/default-collector.yaml" || fail "default: collector has no replicas"
data_volume=$(grep -A1 '^        - name: data$' "$tmp/default-notifier.yaml" || true)
[[ $data_volume == *"emptyDir: {}"* ]] \
  || fail "default: notifier data_dir is not an emptyDir"
ok "optional features off by default; notifier data_dir on an emptyDir"

check_common ci
check_toml "ci costwatch.toml" "$tmp/ci.toml" yes
check_toml "ci migrate costwatch.toml" "$tmp/ci-migrate.toml" none
ok "costwatch.toml renders all settings incl. rate_card, fx, notifier; the migrate copy leaves them out"
[[ $(count_kind "$tmp/ci.yaml" Ingress) == 1 ]] || fail "ci: Ingress not rendered"
[[ $(count_kind "$tmp/ci.yaml" HorizontalPodAutoscaler) == 2 ]] || fail "ci: expected 2 HPAs"
[[ $(count_kind "$tmp/ci.yaml" PodDisruptionBudget) == 2 ]] || fail "ci: expected 2 PDBs"
[[ $(count_kind "$tmp/ci.yaml" PersistentVolumeClaim) == 1 ]] || fail "ci: notifier PVC not rendered"
! grep -q '^  replicas: ' "$tmp/ci-collector.yaml" || fail "ci: collector sets replicas although the HPA owns them"
grep -q 'secretName: costwatch-notifier-channels' "$tmp/ci-notifier.yaml" \
  || fail "ci: notifier does not mount notifier.existingSecret"
grep -qx 'notifier = "/etc/costwatch/notifier/notifier.toml"' "$tmp/ci.toml" \
  || fail "ci: config.notifier does not name the mounted Secret"
grep -q 'claimName: cw-costwatch-notifier' "$tmp/ci-notifier.yaml" || fail "ci: notifier does not use its PVC"
grep -q 'containerPort: 8081' "$tmp/ci-collector.yaml" || fail "ci: collector port from [::]:8081 not derived"
ok "ci: Ingress, 2 HPAs, 2 PDBs, notifier PVC and Secret, rate card and FX ConfigMaps"
grep -qx 'tls_cert_file = "/etc/costwatch/tls/tls.crt"' "$tmp/ci.toml" \
  && grep -qx 'tls_key_file = "/etc/costwatch/tls/tls.key"' "$tmp/ci.toml" \
  || fail "ci: tls_cert_file/tls_key_file do not name the mounted tls.existingSecret"
for s in collector gateway; do
  grep -q 'secretName: costwatch-tls' "$tmp/ci-$s.yaml" || fail "ci: $s does not mount tls.existingSecret"
  n=$(grep -c '^ *scheme: HTTPS$' "$tmp/ci-$s.yaml" || true)
  [[ $n == 2 ]] || fail "ci: $s probes do not use HTTPS with TLS on (found $n)"
done
for s in aggregator notifier anomaly-detector; do
  ! grep -q 'secretName: costwatch-tls' "$tmp/ci-$s.yaml" || fail "ci: $s mounts the TLS key it does not serve"
done
! grep -q 'scheme: HTTPS' "$tmp/default.yaml" || fail "default: probes use HTTPS without TLS"
ok "ci: TLS Secret mounted in collector and gateway only, named by tls_cert_file/tls_key_file, probes over HTTPS"

# NOTES.txt is not output by `helm template` (and `helm install --dry-run` needs a cluster):
# render it through a copy of the chart that includes it in a ConfigMap.
echo "NOTES.txt"
cp -r "$chart" "$tmp/notes-chart"
{ echo '{{- define "check.notes" -}}'; cat "$chart/templates/NOTES.txt"; echo '{{- end }}'; } \
  >"$tmp/notes-chart/templates/_check_notes.tpl"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: check-notes\ndata:\n  notes: |\n{{ include "check.notes" . | indent 4 }}\n' \
  >"$tmp/notes-chart/templates/check-notes.yaml"
for values in default ci; do
  args=(); [[ $values == ci ]] && args=(-f "$ci_values")
  helm template cw "$tmp/notes-chart" --namespace costwatch "${args[@]}" \
    --show-only templates/check-notes.yaml >"$tmp/notes-$values.out" 2>&1 \
    || { cat "$tmp/notes-$values.out" >&2; fail "NOTES.txt does not render ($values values)"; }
  grep -q 'port-forward svc/cw-costwatch-collector' "$tmp/notes-$values.out" \
    || fail "NOTES.txt ($values values) lacks the collector port-forward line"
done
ok "NOTES.txt renders with default and ci values"

# --- 3. schema ------------------------------------------------------------------------------
echo "schema rejects bad values"
expect_schema_error() { # description, helm args...
  local what=$1; shift
  if helm template cw "$chart" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"; then
    fail "schema accepted $what (helm template exited 0)"
  fi
  grep -qi "schema" "$tmp/bad.err" \
    || { cat "$tmp/bad.err" >&2; fail "helm template failed for $what, but not with a schema error"; }
  ok "rejected $what: $(grep -m1 "^- at '" "$tmp/bad.err" | cut -c3-120)"
}
expect_schema_error "aggregator.replicas: 2" --set aggregator.replicas=2
grep -q "/aggregator/replicas" "$tmp/bad.err" || fail "the schema error for aggregator.replicas: 2 does not name /aggregator/replicas"
expect_schema_error "notifier.replicas: 2" --set notifier.replicas=2
expect_schema_error "anomalyDetector.replicas: 2" --set anomalyDetector.replicas=2
expect_schema_error "collector.replicas: -1" --set collector.replicas=-1
expect_schema_error "gateway.replicas: \"two\"" --set-string gateway.replicas=two
expect_schema_error "config.gateway_http on 127.0.0.1" --set config.gateway_http=127.0.0.1:8080
expect_schema_error "an unknown config key" --set config.kafka_broker=x:9092
expect_schema_error "config.topic_partitions: \"6\" (a string)" --set-string config.topic_partitions=6
expect_schema_error "securityContext.runAsNonRoot: false" --set securityContext.runAsNonRoot=false
helm template cw "$chart" --set notifier.replicas=0 >/dev/null 2>&1 || fail "schema rejected notifier.replicas: 0"
ok "accepted notifier.replicas: 0"

echo "check.sh: all checks passed in $((SECONDS - start)) s"
