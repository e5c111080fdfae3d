#!/usr/bin/env bash
# bench/axon (make bench-axon): the axon (`ganglion axon`, built-in Dummy)
# under wrk replaying pre-signed requests, beside its two floors measured in
# the same run: nginx answering the same requests with a fixed 200 (the HTTP
# floor) and the bare sr25519 verify rate (the crypto floor). Prints
# requests/s, p50/p99 latency, the axon's peak RSS and the ratios. Every
# process it starts is stopped on exit.
#   bench/axon.sh BUILD_DIR         (build/bench: ganglion, bench/axon_gen)
# env: AXON_BENCH_SECONDS      seconds per measured run (default 10)
#      AXON_BENCH_WARMUP       seconds of warm-up per target (default 2)
#      AXON_BENCH_CONNECTIONS  wrk connections (default 64)
#      AXON_BENCH_THREADS      wrk threads (default 2)
#      AXON_BENCH_REQUESTS     requests signed for the measured axon run
#                              (default: 1.5 x the verify floor x seconds,
#                              which the axon cannot outrun)
#
# Order: the verify floor (nothing else running), a probe request (its
# answer is what nginx returns), the axon (warm-up, then the measured run on
# freshly signed requests), then nginx on the same request bytes. axon, nginx
# and wrk share the machine's CPUs.
set -euo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
secs=${AXON_BENCH_SECONDS:-10}
warm=${AXON_BENCH_WARMUP:-2}
conns=${AXON_BENCH_CONNECTIONS:-64}
threads=${AXON_BENCH_THREADS:-2}
gen=$build/bench/axon_gen
ganglion=$build/ganglion
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

if ! command -v wrk >/dev/null; then
  echo "bench: axon skipped: wrk is missing (Debian package wrk; make deps installs it)" >&2
  exit 0
fi
if [ ! -x "$nginx_bin" ]; then
  echo "bench: axon skipped: nginx is missing (Debian package nginx-light; make deps installs it)" >&2
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "bench: axon skipped: python3 is missing" >&2
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ganglion-bench-axon.XXXXXX")
axon_pid="" nginx_pid=""
stop_pid() { # pid signal: signal, wait up to 5 s, then SIGKILL
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$2" "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$axon_pid" TERM
  stop_pid "$nginx_pid" QUIT
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() { # port: until something accepts on 127.0.0.1:port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
run_wrk() { # label prefix mode seconds port path
  rm -f "$2.ready"
  wrk -t "$threads" -c "$conns" -d "${4}s" -s "$here/axon.lua" "http://127.0.0.1:$5$6" \
    -- "$2" "$3" "$1" "$threads" >"$tmp/wrk.out" 2>&1 || { cat "$tmp/wrk.out" >&2; return 1; }
  grep '^wrk ' "$tmp/wrk.out" || { cat "$tmp/wrk.out" >&2; return 1; }
}
field() { awk -v k="$2" '{print $k}' <<<"$1"; }
thread_ticks() { # pid: "<main thread> <other threads>" CPU ticks (utime + stime)
  local main=0 other=0 t v
  for t in /proc/"$1"/task/*; do
    v=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null) || continue
    if [ "${t##*/}" = "$1" ]; then main=$((main + v)); else other=$((other + ${v:-0})); fi
  done
  echo "$main $other"
}
child_ticks() { # pid: CPU ticks of its children (nginx's workers)
  local sum=0 c
  for c in $(pgrep -P "$1"); do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$c/stat"))); done
  echo "$sum"
}
answers() { # the axon's own counts: answers by synapse and status, refusals by reason
  python3 -c 'import sys, urllib.request as u; sys.stdout.write(u.urlopen(sys.argv[1]).read().decode())' \
    "http://127.0.0.1:$axon_port/metrics" | awk '/^ganglion_axon_(requests|rejects)_total/'
}

# ---- the axon ----
"$ganglion" axon --suri //Bob --port 0 --axon.ip 127.0.0.1 >"$tmp/axon.out" 2>"$tmp/axon.err" &
axon_pid=$!
for _ in $(seq 100); do [ -s "$tmp/axon.out" ] && break; sleep 0.05; done
axon_port=$(sed -n 's/.*"axon":"[^"]*:\([0-9]*\)".*/\1/p' "$tmp/axon.out")
axon_hotkey=$(sed -n 's/.*"hotkey":"\([^"]*\)".*/\1/p' "$tmp/axon.out")
[ -n "$axon_port" ] || { echo "bench: axon did not start" >&2; cat "$tmp/axon.err" >&2; exit 1; }
load0=$(cut -d" " -f1-3 /proc/loadavg)
rss_idle=$(awk '/^VmRSS/ {print $2}' "/proc/$axon_pid/status")

# ---- the crypto floor, on a quiet machine ----
verify=$("$gen" verify 2)
verify_1=$(awk '$1=="verify_1" {print $2}' <<<"$verify")
verify_all=$(awk '$1=="verify_all" {print $2}' <<<"$verify")
verify_threads=$(awk '$1=="verify_all" {print $3}' <<<"$verify")
verify_cpu=$(awk '$1=="verify_cpu_us" {print $2}' <<<"$verify")

# ---- a probe: the axon's answer, which nginx will return ----
"$gen" requests "$tmp/probe" 1 1 "$axon_hotkey" "$axon_port" >/dev/null
nginx_port=$(free_port)
probe=$(python3 - "$axon_port" "$tmp/probe.probe" "$tmp" "$nginx_port" "$(id -un)" "$(id -u)" <<'EOF'
import socket, sys
port, probe, tmp, nport, user, uid = sys.argv[1:7]
data = open(probe, "rb").read()
n, _, rest = data.partition(b"\n")
req = rest[: int(n)]
s = socket.create_connection(("127.0.0.1", int(port)))
s.sendall(req)
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("bench: axon: the probe got no answer")
    buf += chunk
head, _, body = buf.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
status = int(lines[0].split()[1])
hdrs = [l.split(":", 1) for l in lines[1:]]
clen = int(next(v for k, v in hdrs if k.strip().lower() == "content-length"))
while len(body) < clen:
    body += s.recv(65536)
body = body[:clen].decode()
if status != 200:
    sys.exit(f"bench: axon: the probe got {status}: {body}")
# nginx answers with the axon's body and its synapse headers (nginx writes
# its own Content-Type/Length, Date, Server, Connection); anything nginx's
# config cannot quote is replaced by padding of the same size
own = {"content-length", "content-type", "date", "server", "connection", "keep-alive"}
bad = lambda t: any(c in t for c in "'\"\\$;{}") or any(ord(c) < 32 for c in t)
adds, pad = [], 0
for k, v in hdrs:
    k, v = k.strip(), v.strip()
    if k.lower() in own:
        continue
    if bad(k) or bad(v):
        pad += len(k) + len(v) + 4
    else:
        adds.append(f'        add_header {k} "{v}";')
if pad:
    adds.append(f'        add_header x-pad "{"p" * max(1, pad - 9)}";')
text = body if not bad(body) else '{"pad":"' + "p" * (len(body) - 10) + '"}'
user_line = f"user {user};" if uid == "0" else ""
t = tmp
conf = f"""
{user_line}
worker_processes auto;
daemon off;
pid {t}/nginx.pid;
error_log {t}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    keepalive_requests 100000000;
    client_body_temp_path {t}/nginx-body;
    proxy_temp_path {t}/nginx-proxy;
    fastcgi_temp_path {t}/nginx-fastcgi;
    uwsgi_temp_path {t}/nginx-uwsgi;
    scgi_temp_path {t}/nginx-scgi;
    server {{
        listen 127.0.0.1:{nport};
        location / {{
            default_type application/json;
{chr(10).join(adds)}
            return 200 '{text}';
        }}
    }}
}}
"""
open(f"{t}/nginx.conf", "w").write(conf)
print(len(head) + 4, len(body), len(hdrs))
EOF
)

# ---- nginx (the HTTP floor), as the current user ----
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" 2>>"$tmp/nginx-error.log" &
nginx_pid=$!
wait_port "$nginx_port" || { echo "bench: nginx did not start" >&2; cat "$tmp/nginx-error.log" >&2; exit 1; }
nginx_workers=$(pgrep -P "$nginx_pid" | wc -l)

# ---- the axon under load ----
warm_n=$(awk -v r="$verify_all" -v s="$warm" 'BEGIN{n=int(r*s*1.5); print n<1000?1000:n}')
main_n=${AXON_BENCH_REQUESTS:-$(awk -v r="$verify_all" -v s="$secs" 'BEGIN{n=int(r*s*1.5); print n<1000?1000:n}')}
"$gen" requests "$tmp/warm" "$threads" "$warm_n" "$axon_hotkey" "$axon_port" >/dev/null
run_wrk axon-warmup "$tmp/warm" once "$warm" "$axon_port" /Dummy >"$tmp/axon-warm.line"
gen_out=$("$gen" requests "$tmp/main" "$threads" "$main_n" "$axon_hotkey" "$axon_port")
before=$(answers)
ticks0=$(thread_ticks "$axon_pid")
axon=$(run_wrk axon "$tmp/main" once "$secs" "$axon_port" /Dummy)
ticks1=$(thread_ticks "$axon_pid")
rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$axon_pid/status")
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$axon_pid/status")
after=$(answers)
metrics=$(awk 'NR==FNR {before[$1]=$2; next} {d=$2-before[$1]; if (d) {printf "%s%s=%d", sep, $1, d; sep=" "}}' \
  <(echo "$before") <(echo "$after") | sed 's/ganglion_axon_//g; s/_total//g')

# ---- nginx under load: the same request bytes, handed out in a cycle ----
run_wrk nginx-warmup "$tmp/main" cycle "$warm" "$nginx_port" /Dummy >/dev/null
nticks0=$(child_ticks "$nginx_pid")
nginx=$(run_wrk nginx "$tmp/main" cycle "$secs" "$nginx_port" /Dummy)
nticks1=$(child_ticks "$nginx_pid")

# ---- the table ----
# line: wrk label req/s p50 p99 requests non200 errors exhausted loaded bytes statuses
cpus=$(nproc)
echo "bench/axon: Dummy, wrk $threads threads x $conns connections, ${secs} s per target" \
  "(+${warm} s warm-up); axon, nginx ($nginx_workers workers) and wrk share $cpus CPUs;" \
  "load average at the start: $load0"
printf '%-28s %10s %9s %9s %9s %8s %7s %9s\n' target "req/s" "p50 ms" "p99 ms" requests \
  "non-200" errors "resp B"
for line in "$axon" "$nginx"; do
  # shellcheck disable=SC2086
  set -- $line
  printf '%-28s %10.0f %9.2f %9.2f %9s %8s %7s %9s\n' "$2" "$3" "$(awk -v u="$4" 'BEGIN{print u/1000}')" \
    "$(awk -v u="$5" 'BEGIN{print u/1000}')" "$6" "$7" "$8" "${11}"
done
printf '%-28s %10s\n' "sr25519 verify, $verify_threads threads" "$verify_all"
printf '%-28s %10s\n' "sr25519 verify, 1 thread" "$verify_1"
axon_rps=$(field "$axon" 3) nginx_rps=$(field "$nginx" 3)
echo "axon RSS: peak (VmHWM) $((rss_peak / 1024)) MiB, idle before $((rss_idle / 1024)) MiB," \
  "after $((rss_after / 1024)) MiB"
echo "the axon's answer (probe): $(field "$probe" 1) B of head ($(field "$probe" 3) header lines)" \
  "+ $(field "$probe" 2) B of body; nginx returns that body and the synapse headers"
echo "axon answers during the measured run, its own count (in flight at the end included): $metrics"
echo "axon: $(field "$gen_out" 2) requests signed in $(field "$gen_out" 3) s," \
  "$(field "$axon" 10) loaded, non-200 statuses: $(field "$axon" 12);" \
  "warm-up: $(field "$(cat "$tmp/axon-warm.line")" 3) req/s, non-200 $(field "$(cat "$tmp/axon-warm.line")" 7)"
# CPU time per answer in the measured runs (/proc ticks: utime + stime)
awk -v hz="$(getconf CLK_TCK)" -v t0="$ticks0" -v t1="$ticks1" -v n0="$nticks0" -v n1="$nticks1" \
  -v na="$(field "$axon" 6)" -v nn="$(field "$nginx" 6)" -v vc="$verify_cpu" 'BEGIN {
  split(t0, a); split(t1, b); us = 1e6 / hz
  loop = (b[1] - a[1]) * us / na; work = (b[2] - a[2]) * us / na
  printf "CPU per answer: axon %.0f us (loop thread %.0f + verify workers %.0f), a bare verify" \
    " %.0f us (%.2f of the axon'"'"'s), nginx workers %.0f us\n", loop + work, loop, work, vc,
    vc / (loop + work), (n1 - n0) * us / nn
}'
awk -v a="$axon_rps" -v n="$nginx_rps" -v v="$verify_all" -v v1="$verify_1" -v t="$verify_threads" 'BEGIN {
  printf "ratios: axon/nginx %.3f   axon/verify(%d threads) %.3f   axon/verify(1 thread) %.3f\n",
    a / n, t, a / v, a / v1
  low = (n < v) ? n : v; name = (n < v) ? "nginx" : "verify"
  printf "goal: axon >= 0.70 x the lower floor (%s, %.0f/s): %.3f, %s\n", name, low, a / low,
    ((a / low) >= 0.70) ? "met" : "NOT met"
}'
fail=0
if [ "$(field "$axon" 9)" != 0 ]; then
  echo "bench: axon: wrk ran out of requests ($(field "$axon" 10) loaded): the rate is void;" \
    "set AXON_BENCH_REQUESTS higher" >&2
  fail=1
fi
if [ "$(field "$axon" 7)" != 0 ] || [ "$(field "$axon" 8)" != 0 ]; then
  echo "bench: axon: $(field "$axon" 7) answers were not 200 and $(field "$axon" 8) requests failed" >&2
  fail=1
fi
exit $fail
