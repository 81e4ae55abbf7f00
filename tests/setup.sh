#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine; a no-op where it is all present.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real Prometheus, VictoriaMetrics and Alertmanager (amtool) from Debian: reference peers for the
# load tool and the Alertmanager configuration checks; openssl makes the TLS tests' certificates.
need=()
for pkg_bin in prometheus:prometheus victoria-metrics:victoria-metrics prometheus-alertmanager:amtool openssl:openssl; do
  command -v "${pkg_bin#*:}" >/dev/null 2>&1 || need+=("${pkg_bin%%:*}")
done
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
