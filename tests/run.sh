#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, then the end-to-end tests that drive a
# real ampd with the AWS CLI and boto3.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh

cargo build --locked -p ampd-api --bin ampd -p ampd-bench --bin ampd-bench
cargo nextest run --locked --workspace --no-fail-fast

python3 -m pytest -p no:cacheprovider -q tests/e2e
