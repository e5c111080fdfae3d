#!/usr/bin/env bash
# bench/dendrite (make bench-dendrite): one Dummy synapse to 1024 targets on
# loopback, each target a port of bench/dendrite_responder (answers 50 ms
# after each request). In the same run, one process per row, one after
# another on the same responder:
#   raw-floor                 bench/dendrite --mode raw: pre-built requests on one
#                             connection per target, responses dropped (the link
#                             and the responder alone)
#   (signing floors)          bench/dendrite --mode sign: 1024 signatures whole or with
#                             witnesses made ahead, on 1 and 2 threads, no network
#   ganglion                  bench/dendrite: gn_dendrite_query, every target in flight
#                             (defaults: 2 signing jobs on the thread pool, 1024
#                             witnesses made ahead)
#   ganglion-t1               ... 1 signing job at a time
#   ganglion-loop             ... signed on the loop thread
#   ganglion-nowit            ... no witnesses made ahead (each made as it signs)
#   python-aiohttp-unlimited  bench/peer/dendrite.py: the SDK's gather, TCPConnector(limit=0)
#   ganglion-c100             gn_dendrite_query with max_concurrency 100
#   python-aiohttp-l100       the SDK's gather with its default session (limit=100)
# then the table (overhead = wall time - the delay; CPU seconds per 1000
# requests; peak RSS) and the ratios. The responder is stopped on exit.
#   bench/dendrite.sh BUILD_DIR        (build/bench)
# env: DENDRITE_BENCH_TARGETS   targets (default 1024)
#      DENDRITE_BENCH_DELAY_MS  the responder's delay (default 50)
#      DENDRITE_BENCH_ROUNDS    warm rounds after the cold one (default 10)
#      DENDRITE_BENCH_PYTHON    the peer's interpreter (default /usr/bin/python3,
#                               with Debian's python3-aiohttp)
set -euo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
n=${DENDRITE_BENCH_TARGETS:-1024}
delay=${DENDRITE_BENCH_DELAY_MS:-50}
rounds=${DENDRITE_BENCH_ROUNDS:-10}
py=${DENDRITE_BENCH_PYTHON:-/usr/bin/python3}
bin=$build/bench

# the responder holds a listener per target and a connection per target for
# each client; raise the soft limit of open files as far as the hard one
want=$((n * 3 + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    echo "bench: dendrite skipped: $want open files needed, the limit is $(ulimit -n)" >&2
    exit 0
  fi
fi
peer=1
if ! "$py" -c 'import aiohttp' 2>/dev/null; then
  echo "bench: dendrite: Python peer skipped: $py has no aiohttp (apt-get install python3-aiohttp)" >&2
  peer=0
fi

tmp=$(mktemp -d)
resp_pid=""
cleanup() {
  if [ -n "$resp_pid" ]; then
    kill "$resp_pid" 2>/dev/null || true
    wait "$resp_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin/dendrite_responder" "$n" "$delay" "$tmp/ports" >"$tmp/ready" &
resp_pid=$!
for _ in $(seq 100); do [ -s "$tmp/ready" ] && break; sleep 0.1; done
[ -s "$tmp/ready" ] || { echo "bench: dendrite: the responder did not start" >&2; exit 1; }
echo "bench: dendrite: $n targets on loopback, answered ${delay} ms after each request;" \
  "1 cold + $rounds warm rounds per row; $(nproc) cores shared by the clients and the responder;" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

rows=$tmp/rows
common=(--ports "$tmp/ports" --rounds "$rounds" --delay-ms "$delay")
"$bin/dendrite" "${common[@]}" --mode raw --inputs "$tmp/inputs.json" >>"$rows"
"$bin/dendrite" "${common[@]}" --mode sign >>"$rows"
"$bin/dendrite" "${common[@]}" --mode ganglion >>"$rows"
"$bin/dendrite" "${common[@]}" --mode ganglion --sign-threads 1 --name ganglion-t1 >>"$rows"
"$bin/dendrite" "${common[@]}" --mode ganglion --sign-threads -1 --name ganglion-loop >>"$rows"
"$bin/dendrite" "${common[@]}" --mode ganglion --witness-pool -1 --name ganglion-nowit >>"$rows"
[ "$peer" = 1 ] && "$py" "$here/peer/dendrite.py" "$tmp/inputs.json" 0 "$rounds" >>"$rows"
"$bin/dendrite" "${common[@]}" --mode ganglion --concurrency 100 >>"$rows"
[ "$peer" = 1 ] && "$py" "$here/peer/dendrite.py" "$tmp/inputs.json" 100 "$rounds" >>"$rows"

awk -v n="$n" -v delay="$delay" '
  $1 == "sign" {
    sw1 = $3; sw2 = $4; sx1 = $5; sx2 = $6; scw = $7; scx = $8; scm = $9; have_sign = 1
  }
  $1 == "row" {
    w = $2; order[++k] = w
    cold[w] = $4; med[w] = $5; best[w] = $6; worst[w] = $7
    cpuc[w] = $8; cpuw[w] = $9; hwm[w] = $10; base[w] = $11; sign[w] = $12
  }
  function ratio(a, b) { return b > 0 ? sprintf("%.1fx", a / b) : "-" }
  END {
    printf "\n%-25s %9s %9s %9s %9s %10s %10s %9s %9s\n", "dendrite (" n " targets)", "cold ms",
      "warm ms", "best ms", "worst ms", "CPU cold", "CPU warm", "peak MiB", "base MiB"
    printf "%-25s %9s %9s %9s %9s %10s %10s %9s %9s\n", "(wall - " delay " ms)", "", "median", "",
      "", "s/1000", "s/1000", "VmHWM", "VmRSS"
    for (i = 1; i <= k; i++) {
      w = order[i]
      printf "%-25s %9.1f %9.1f %9.1f %9.1f %10.4f %10.4f %9.1f %9.1f\n", w, cold[w], med[w],
        best[w], worst[w], cpuc[w], cpuw[w], hwm[w] / 1024, base[w] / 1024
    }
    print ""
    print "ratios (peer / ganglion; warm rounds: overhead medians, CPU per request, peak RSS):"
    split("python-aiohttp-unlimited:ganglion python-aiohttp-unlimited:ganglion-t1 python-aiohttp-unlimited:ganglion-loop python-aiohttp-l100:ganglion-c100 python-aiohttp-l100:ganglion", pairs, " ")
    for (i = 1; i <= 5; i++) {
      split(pairs[i], p, ":"); a = p[1]; b = p[2]
      if (!(a in med) || !(b in med)) continue
      printf "  %-24s / %-13s  overhead %7s  CPU %6s  peak RSS %6s\n", a, b, ratio(med[a], med[b]),
        ratio(cpuw[a], cpuw[b]), ratio(hwm[a], hwm[b])
    }
    if ("raw-floor" in med)
      printf "  %-24s - %-13s  overhead +%.1f ms over the floor (%.1f ms); CPU %s the floor\n", "ganglion",
        "raw-floor", med["ganglion"] - med["raw-floor"], med["raw-floor"], ratio(cpuw["ganglion"], cpuw["raw-floor"])
    if ("ganglion-c100" in med)
      printf "  with at most 100 in flight the %d requests go in %d waves: %d ms of the overhead of the c100 and l100 rows is the limit\n",
        n, int((n + 99) / 100), (int((n + 99) / 100) - 1) * delay
    if (have_sign) {
      print ""
      printf "signing floors (%d signatures, no network; wall ms on 1 / 2 threads, CPU s per 1000):\n", n
      printf "  whole (gn_sr25519_sign)                    %7.1f / %7.1f ms   %.4f\n", sw1, sw2, scw
      printf "  with witnesses made ahead (the send path)  %7.1f / %7.1f ms   %.4f\n", sx1, sx2, scx
      printf "  making the witnesses (off the send path)                        %.4f\n", scm
      if ("python-aiohttp-unlimited" in cpuw) {
        py = cpuw["python-aiohttp-unlimited"]
        printf "  the 10x CPU goal leaves %.4f s per 1000 for everything; signing alone takes %.4f (witness + signature, %.0f%% of it),\n", py / 10, scx + scm, 100 * (scx + scm) / (py / 10)
        printf "  the raw floor (syscalls, no JSON, no signing) %.4f: both together %.0f%% of the budget; the Python peer does not sign\n",
          cpuw["raw-floor"], 100 * (scx + scm + cpuw["raw-floor"]) / (py / 10)
      }
    }
    print ""
    o = med["ganglion"]
    printf "goals: overhead < 5 ms at %d targets: %s (%.1f ms, median of the warm rounds, best %.1f; cold %.1f ms; the raw floor alone %.1f ms)\n", n,
      o < 5 ? "met" : "missed", o, best["ganglion"], cold["ganglion"], med["raw-floor"]
    if ("python-aiohttp-unlimited" in cpuw) {
      r1 = cpuw["python-aiohttp-unlimited"] / cpuw["ganglion"]
      r2 = cpuw["python-aiohttp-l100"] / cpuw["ganglion-c100"]
      printf "       >= 10x less CPU than the Python client: %s (%.1fx unlimited, %.1fx at limit 100; the Python side does not sign)\n",
        (r1 >= 10 && r2 >= 10) ? "met" : "missed", r1, r2
    }
  }' "$rows"
