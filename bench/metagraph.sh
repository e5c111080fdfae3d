#!/usr/bin/env bash
# bench/metagraph (make bench-metagraph): "all neurons of all subnets" on the
# local chain seeded with many subnets, behind a latency proxy: ganglion
# (bench/metagraph.c: concurrent and sequential, with its floors) and
# polkadot-js (peer/metagraph.mjs, Promise.all) in the same run, through
# bench/run.sh, then a summary of the ratios. Everything it starts is
# stopped on exit.
#   bench/metagraph.sh BUILD_DIR CHAIN_DIR      (build/bench build/chain)
# env: METAGRAPH_BENCH_RTT_MS    round trip the proxy adds (default 50)
#      METAGRAPH_BENCH_SUBNETS   subnets seeded, besides root (default 32)
#      METAGRAPH_BENCH_NEURONS   neurons in each (default 64)
#      METAGRAPH_BENCH_DECODE    neurons of the decoded answer (default 256)
#      METAGRAPH_BENCH_MEMO      1 (default): the proxy's upstream is the
#                                set-up's memo of runtime calls (see
#                                metagraph_setup.mjs); 0: the chain itself,
#                                whose ~0.4 s per runtime call then is most
#                                of every read
set -euo pipefail
build=$1 chain=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rtt=${METAGRAPH_BENCH_RTT_MS:-50}
subnets=${METAGRAPH_BENCH_SUBNETS:-32}
neurons=${METAGRAPH_BENCH_NEURONS:-64}
decode=${METAGRAPH_BENCH_DECODE:-256}
memo=${METAGRAPH_BENCH_MEMO:-1}

if [ ! -x "$chain/start.sh" ] || [ ! -d "$chain/node_modules/@polkadot/api" ]; then
  echo "bench: metagraph skipped: no local chain in $chain (make chain-metadata installs it)" >&2
  exit 0
fi
if ! command -v node >/dev/null; then
  echo "bench: metagraph skipped: Node.js is missing" >&2
  exit 0
fi

run=$(cd "$chain" && pwd)/run
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
inputs=$build/bench/metagraph-inputs.json
proxy_pid="" setup_pid="" proxy_out=$(mktemp) table=$(mktemp)
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  if [ -n "$setup_pid" ]; then
    kill "$setup_pid" 2>/dev/null || true
    wait "$setup_pid" 2>/dev/null || true
  fi
  CHAIN_RUN_DIR="$run" "$chain/stop.sh" "$port" >/dev/null 2>&1 || true
  rm -f "$proxy_out" "$table"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

url=$(CHAIN_RUN_DIR="$run" "$chain/start.sh" "$port" | tail -n 1)
# the proxy's upstream: the memo (the set-up, listening once the chain is
# seeded; the proxy connects upstream per connection, so it may start first)
# or the chain
memo_port=0 upstream=$port
if [ "$memo" != 0 ]; then
  memo_port=$(free_port)
  upstream=$memo_port
fi
"$build/bench/latency_proxy" 0 "$upstream" "$(awk -v r="$rtt" 'BEGIN{print r/2}')" >"$proxy_out" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$proxy_out" ] && break; sleep 0.1; done
[ -s "$proxy_out" ] || { echo "bench: metagraph: the latency proxy did not start" >&2; exit 1; }
proxy_url=ws://$(head -n 1 "$proxy_out")
echo "bench: metagraph: chain at $url, through $proxy_url with a ${rtt} ms round trip" \
  "($([ "$memo" != 0 ] && echo "runtime calls memoised on port $memo_port" || echo "no memo"))" >&2

rm -f "$inputs"
node "$here/metagraph_setup.mjs" "$chain" "$url" "$proxy_url" "$rtt" "$subnets" "$neurons" \
  "$decode" "$inputs" "$memo_port" >&2 &
setup_pid=$!
until [ -s "$inputs" ]; do
  if ! kill -0 "$setup_pid" 2>/dev/null; then
    wait "$setup_pid" || { echo "bench: metagraph: the set-up failed" >&2; exit 1; }
    setup_pid=""
    [ -s "$inputs" ] || { echo "bench: metagraph: the set-up wrote no inputs" >&2; exit 1; }
  fi
  sleep 0.2
done

bash "$here/run.sh" "$build" "$chain" metagraph | tee "$table"

# the goals, as times: ganglion / floor (1.2x at most), polkadot-js / ganglion, sequential / concurrent
awk '
  $1 ~ /^metagraph_(c16|c64|seq)$/ && NF == 5 && $4 + 0 > 0 { ratio[$1, $3] = $2 / $4 }
  END {
    print ""
    print "summary (times, from the table):"
    split("metagraph_c16 metagraph_c64 metagraph_seq", rows, " ")
    for (i = 1; i <= 3; i++) {
      b = rows[i]; line = sprintf("  %-14s", b)
      if ((b, "latency-floor") in ratio) line = line sprintf("  %.2fx the latency floor", 1 / ratio[b, "latency-floor"])
      if ((b, "raw-rpc") in ratio) line = line sprintf(", %.2fx the raw requests", 1 / ratio[b, "raw-rpc"])
      if ((b, "polkadot-js") in ratio) line = line sprintf(", polkadot-js takes %.2fx as long", ratio[b, "polkadot-js"])
      if ((b, "ganglion-seq") in ratio) line = line sprintf(", seed ratio (sequential / this) %.2fx", ratio[b, "ganglion-seq"])
      print line
    }
    for (i = 1; i <= 2; i++) {
      b = rows[i]
      if ((b, "latency-floor") in ratio) {
        f = 1 / ratio[b, "latency-floor"]
        goals = goals sprintf("  %s: %s the floor (%s)", b, f <= 1.2 ? "within 1.2x" : "not within 1.2x",
                              f <= 1.2 ? "met" : sprintf("missed by %.0f%%", (f / 1.2 - 1) * 100))
      }
      if ((b, "polkadot-js") in ratio)
        goals = goals sprintf(", %s polkadot-js (%s)\n", ratio[b, "polkadot-js"] > 1 ? "faster than" : "not faster than",
                              ratio[b, "polkadot-js"] > 1 ? "met" : "missed")
      else
        goals = goals "\n"
    }
    printf "goals (concurrent within 1.2x the latency floor, and faster than polkadot-js):\n%s", goals
  }' "$table"
