#!/usr/bin/env bash
# Query latency of ampd vs Prometheus on the same data, side by side.
#
# Starts a fresh ampd and a fresh Prometheus (Debian's 2.42, remote write receiver on), both on
# loopback with temporary storage; backfills the same node_exporter-like series into both with
# ampd-bench (in time order, one sender, so neither refuses samples as too old); then runs the
# dashboard query set (ampd-bench-query) as range queries over the data and prints the median
# latency of each query per target. Run it on an otherwise idle machine.
#
#   cargo build --release -p ampd-api --bin ampd && cargo build --release -p ampd-bench
#   bench/query-bench.sh                      # 2,000 series × 24h at 60s, 24h range queries
#   SERIES=100000 HOURS=24 SCRAPE=15s bench/query-bench.sh
#
# Settings (environment): SERIES, HOURS (history written), SCRAPE (sample interval), RANGE and
# STEP (of the range queries), ITERATIONS, PROFILE (cargo profile dir: release or debug),
# PROMETHEUS (binary), AWS (aws CLI binary).
set -euo pipefail

SERIES=${SERIES:-2000}
HOURS=${HOURS:-24}
SCRAPE=${SCRAPE:-60s}
RANGE=${RANGE:-24h}
STEP=${STEP:-2m}
ITERATIONS=${ITERATIONS:-10}
PROFILE=${PROFILE:-release}
PROMETHEUS=${PROMETHEUS:-prometheus}
AWS=${AWS:-aws}

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="${CARGO_TARGET_DIR:-$repo/target}/$PROFILE"
for b in ampd ampd-bench ampd-bench-query; do
  [[ -x "$bin/$b" ]] || { echo "missing $bin/$b; build it with cargo build --profile $PROFILE" >&2; exit 1; }
done

work=$(mktemp -d -t ampd-query-bench-XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ampd_port=$(port)
prom_port=$(port)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=AKIAQUERYBENCH000001
export AWS_SECRET_ACCESS_KEY=query-bench-secret-key-0000000000000000
export AWS_DEFAULT_REGION=us-east-1
AMPD_ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AMPD_ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  "$bin/ampd" serve --listen "127.0.0.1:$ampd_port" --data-dir "$work/ampd" \
  --transition-delay-ms 0 >"$work/ampd.log" 2>&1 &
pids+=($!)
echo 'global: {}' >"$work/prometheus.yml"
"$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" --web.enable-remote-write-receiver \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)

wait_for() { for _ in $(seq 300); do curl -fs "$1" >/dev/null && return 0; sleep 0.2; done; echo "$1 not up" >&2; exit 1; }
wait_for "http://127.0.0.1:$ampd_port/healthz"
wait_for "http://127.0.0.1:$prom_port/-/ready"

ep=(--endpoint-url "http://127.0.0.1:$ampd_port")
ws=$("$AWS" amp create-workspace --alias query-bench "${ep[@]}" --query workspaceId --output text)
"$AWS" amp wait workspace-active --workspace-id "$ws" "${ep[@]}"
workspace_url="http://127.0.0.1:$ampd_port/workspaces/$ws/"

scrape_s=$(python3 -c "import sys; v=sys.argv[1]; print(float(v[:-2])/1000 if v.endswith('ms') else float(v[:-1])*{'s':1,'m':60,'h':3600}[v[-1]])" "$SCRAPE")
rounds=$(python3 -c "print(int($HOURS*3600/$scrape_s))")
start=$(python3 -c "import datetime,time; t=int(time.time())-$HOURS*3600-60; print(datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
load=(--series "$SERIES" --scrape-interval "$SCRAPE" --rounds "$rounds" --backfill-start "$start" --concurrency 1)
echo "backfilling $SERIES series × $rounds rounds from $start into both targets"
"$bin/ampd-bench" --url "${workspace_url}api/v1/remote_write" --sigv4-region us-east-1 "${load[@]}"
"$bin/ampd-bench" --url "http://127.0.0.1:$prom_port/api/v1/write" "${load[@]}"

"$bin/ampd-bench-query" --target "ampd=$workspace_url" --sign ampd \
  --target "prometheus=http://127.0.0.1:$prom_port/" \
  --range "$RANGE" --step "$STEP" --iterations "$ITERATIONS"
