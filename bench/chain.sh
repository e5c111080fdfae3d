#!/usr/bin/env bash
# bench/chain (make bench-chain): the local chain behind a latency proxy,
# ganglion's chain client (bench/chain.c) and polkadot-js (peer/chain.mjs)
# on it in the same run, through bench/run.sh. Everything it starts is
# stopped on exit.
#   bench/chain.sh BUILD_DIR CHAIN_DIR      (build/bench build/chain)
# env: CHAIN_BENCH_RTT_MS    round trip the proxy adds (default 50)
#      CHAIN_BENCH_ACCOUNTS  accounts funded and read (default 1000)
set -euo pipefail
build=$1 chain=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rtt=${CHAIN_BENCH_RTT_MS:-50}
accounts=${CHAIN_BENCH_ACCOUNTS:-1000}

if [ ! -x "$chain/start.sh" ] || [ ! -d "$chain/node_modules/@polkadot/api" ]; then
  echo "bench: chain skipped: no local chain in $chain (make chain-metadata installs it)" >&2
  exit 0
fi
if ! command -v node >/dev/null; then
  echo "bench: chain skipped: Node.js is missing" >&2
  exit 0
fi

run=$(cd "$chain" && pwd)/run
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
proxy_pid="" proxy_out=$(mktemp)
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  CHAIN_RUN_DIR="$run" "$chain/stop.sh" "$port" >/dev/null 2>&1 || true
  rm -f "$proxy_out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

url=$(CHAIN_RUN_DIR="$run" "$chain/start.sh" "$port" | tail -n 1)
"$build/bench/latency_proxy" 0 "$port" "$(awk -v r="$rtt" 'BEGIN{print r/2}')" >"$proxy_out" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$proxy_out" ] && break; sleep 0.1; done
[ -s "$proxy_out" ] || { echo "bench: chain: the latency proxy did not start" >&2; exit 1; }
proxy_url=ws://$(head -n 1 "$proxy_out")
echo "bench: chain at $url, through $proxy_url with a ${rtt} ms round trip" >&2

node "$here/chain_setup.mjs" "$chain" "$url" "$proxy_url" "$rtt" "$accounts" \
  "$build/bench/chain-inputs.json" >&2
bash "$here/run.sh" "$build" "$chain" chain
