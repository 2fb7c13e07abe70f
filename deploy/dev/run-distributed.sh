#!/usr/bin/env bash
# Distributed mode on one machine: Kafka + Cassandra from the dev stack, `costwatch migrate`,
# then the collector, aggregator, gateway, notifier and anomaly-detector as separate processes with deploy/dev/costwatch.toml
# (override any setting with COSTWATCH_<SETTING>). Ctrl-C stops the services; the servers keep
# running until `make dev-stack-stop`. Logs: .dev/run/<service>.log
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${COSTWATCH_BIN:-$root/target/release/costwatch}"
config="${COSTWATCH_CONFIG:-$here/costwatch.toml}"
logs="$root/.dev/run"
mkdir -p "$logs"
cd "$root"

"$here/stack.sh" start
"$bin" migrate --target distributed --config "$config"

pids=()
stop() {
  echo "run-distributed: stopping services (servers keep running; make dev-stack-stop stops them)"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap "exit 130" INT TERM

for service in collector aggregator gateway notifier anomaly-detector; do
  "$bin" "$service" --config "$config" >"$logs/$service.log" 2>&1 &
  pids+=("$!")
done
sleep 2
for service in collector aggregator gateway notifier anomaly-detector; do
  grep -m1 "^costwatch $service" "$logs/$service.log" || { echo "run-distributed: $service failed:"; tail -20 "$logs/$service.log"; exit 1; }
done
echo "run-distributed: dashboard http://127.0.0.1:8080 · ingest POST http://127.0.0.1:8081/v1/events · Ctrl-C to stop"
wait -n "${pids[@]}"
echo "run-distributed: a service exited; see $logs"
