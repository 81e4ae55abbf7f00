#!/usr/bin/env bash
# Remote-write ingestion of ampd (plain HTTP and TLS), Prometheus and VictoriaMetrics on the same
# load, side by side: server CPU-seconds per million samples, samples per server CPU-second, and
# peak RSS per active series.
#
# Starts each server fresh on loopback with temporary storage, pushes the same ampd-bench load
# (SigV4-signed for ampd), reads the server's CPU time and peak RSS from /proc before and after,
# and prints one row per target. ampd runs with its ingestion quotas raised so that the load, not
# the quota, is measured. Run it on an otherwise idle machine.
#
#   cargo build --release -p ampd-api --bin ampd && cargo build --release -p ampd-bench
#   bench/ingest-compare.sh                           # 100k series, 10 rounds
#   SERIES=1000000 ROUNDS=3 bench/ingest-compare.sh
#
# Settings (environment): SERIES, ROUNDS, CONCURRENCY, BATCH, TARGETS (any of ampd ampd-tls
# prometheus victoriametrics), PROFILE (cargo profile dir), AWS (aws CLI binary).
set -euo pipefail

SERIES=${SERIES:-100000}
ROUNDS=${ROUNDS:-10}
CONCURRENCY=${CONCURRENCY:-4}
BATCH=${BATCH:-5000}
TARGETS=${TARGETS:-ampd ampd-tls prometheus victoriametrics}
PROFILE=${PROFILE:-release}
AWS=${AWS:-aws}

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="${CARGO_TARGET_DIR:-$repo/target}/$PROFILE"
for b in ampd ampd-bench; do
  [[ -x "$bin/$b" ]] || { echo "missing $bin/$b; build it with cargo build --profile $PROFILE" >&2; exit 1; }
done

work=$(mktemp -d -t ampd-ingest-bench-XXXXXX)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=AKIAINGESTBENCH00001
export AWS_SECRET_ACCESS_KEY=ingest-bench-secret-key-000000000000000
export AWS_DEFAULT_REGION=us-east-1
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 300); do curl -fsk "$1" >/dev/null && return 0; sleep 0.2; done; echo "$1 not up" >&2; exit 1; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

start_ampd() { # $1: extra flags; sets pid and url
  local p; p=$(port)
  AMPD_ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AMPD_ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
    "$bin/ampd" serve --listen "127.0.0.1:$p" --data-dir "$work/ampd-$p" --transition-delay-ms 0 \
    --ingestion-rate 100000000 --ingestion-burst 100000000 $1 >"$work/ampd-$p.log" 2>&1 &
  pid=$!
  local scheme=http ca=()
  if [[ "$1" == *tls* ]]; then scheme=https; ca=(--ca-bundle "$work/ampd-$p/tls/ca.pem"); fi
  wait_for "$scheme://127.0.0.1:$p/healthz"
  local ws
  ws=$("$AWS" amp create-workspace --endpoint-url "$scheme://127.0.0.1:$p" "${ca[@]}" \
    --query workspaceId --output text)
  "$AWS" amp wait workspace-active --workspace-id "$ws" --endpoint-url "$scheme://127.0.0.1:$p" \
    "${ca[@]}"
  url="$scheme://127.0.0.1:$p/workspaces/$ws/api/v1/remote_write"
  bench_flags=(--sigv4-region us-east-1)
  [[ "$scheme" == https ]] && bench_flags+=(--ca-cert "$work/ampd-$p/tls/ca.pem")
  return 0
}

printf '%-16s %10s %10s %14s %16s %12s %10s\n' target samples failed 'samples/s' 'samples/CPU-s' 'CPU-s/M' 'RSS B/ser'
for target in $TARGETS; do
  bench_flags=()
  case "$target" in
    ampd) start_ampd "" ;;
    ampd-tls) start_ampd "--tls-self-signed" ;;
    prometheus)
      p=$(port)
      echo 'global: {}' >"$work/prometheus.yml"
      prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
        --web.listen-address="127.0.0.1:$p" --web.enable-remote-write-receiver \
        >"$work/prometheus.log" 2>&1 &
      pid=$!
      wait_for "http://127.0.0.1:$p/-/ready"
      url="http://127.0.0.1:$p/api/v1/write" ;;
    victoriametrics)
      p=$(port)
      victoria-metrics -storageDataPath="$work/vm" -httpListenAddr="127.0.0.1:$p" \
        >"$work/vm.log" 2>&1 &
      pid=$!
      wait_for "http://127.0.0.1:$p/health"
      url="http://127.0.0.1:$p/api/v1/write" ;;
    *) echo "unknown target $target" >&2; exit 1 ;;
  esac
  before=$(cpu_ticks "$pid")
  "$bin/ampd-bench" --url "$url" --series "$SERIES" --rounds "$ROUNDS" \
    --concurrency "$CONCURRENCY" --batch-size "$BATCH" --json "${bench_flags[@]}" \
    >"$work/$target.json"
  # Let the server finish what it acknowledged asynchronously (VictoriaMetrics buffers).
  sleep 2
  after=$(cpu_ticks "$pid")
  rss=$(peak_rss_kib "$pid")
  python3 - "$work/$target.json" "$target" "$before" "$after" "$rss" "$(getconf CLK_TCK)" "$SERIES" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
target, before, after, rss_kib, tck, series = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
cpu = (after - before) / tck
ok = r["samples_sent"] - r["samples_failed"]
print(f'{target:<16} {ok:>10} {r["samples_failed"]:>10} {r["samples_per_second"]:>14,.0f} '
      f'{ok / cpu if cpu else 0:>16,.0f} {cpu / ok * 1e6 if ok else 0:>12.2f} {rss_kib * 1024 / series:>10,.0f}')
EOF
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
