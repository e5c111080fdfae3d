#!/usr/bin/env bash
# The one-command local network (`make demo`, docs/demo.md): a local subtensor chain, throw-away
# wallets, a subnet with one validator and three miners run as processes, a few validator steps,
# then a report (miners queried, status codes, scores, the weights on chain read back) and every
# process it started stopped. Every chain step goes through ganglion's own CLI.
#
#   deploy/demo.sh
#
# env: GANGLION             the executable (default: build/ganglion)
#      GANGLION_CHAIN_DIR   the installed local chain (default: build/chain, `make chain-metadata`)
#      GANGLION_CHAIN_SPEC  run this instead of chain.yml: a chopsticks config (.yml/.yaml) or a
#                           raw chain spec (.json)
#      DEMO_STEPS           validator steps (default 4); DEMO_BUDGET_S  time limit (default 180)
#      DEMO_LOGS            a directory to copy the processes' logs into before they go
#
# Exit 0 when every step passed and every check held; else 1, with "demo: FAILED at <step>: why"
# on stderr. The last line on stdout is always "DEMO_RESULT {json}" (tests/node/test_demo.c).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
G=${GANGLION:-$ROOT/build/ganglion}
CHAIN_DIR=${GANGLION_CHAIN_DIR:-$ROOT/build/chain}
STEPS=${DEMO_STEPS:-4}
BUDGET=${DEMO_BUDGET_S:-180}
T0=$EPOCHREALTIME

STEP=setup
ERROR=""
RESULT="" # the report's JSON, once made
PORT=""   # the chain's
TMP=""
declare -A PID=() # name -> pid of every process started in the background

elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[%6ss] %s\n' "$(elapsed)" "$*"; }
# fail WHY: name the step and stop (from a $(...) subshell too: the reason goes through a file).
fail() {
  ERROR=$*
  echo "demo: FAILED at $STEP: $*" >&2
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then printf '%s' "$*" >"$TMP/error"; fi
  exit 1
}

# stop_pids NAME...: TERM, up to 10 s, then KILL.
stop_pids() {
  local n p
  for n in "$@"; do
    p=${PID[$n]:-}
    if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  for n in "$@"; do
    p=${PID[$n]:-}
    [ -n "$p" ] || continue
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      echo "demo: $n (pid $p) ignored SIGTERM for 10 s; killed" >&2
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$? n f pids="" others=()
  trap - EXIT
  trap '' INT TERM ALRM # the cleanup runs to its end
  set +e
  exec 1>&3 2>&4 # the script's own stdout and stderr, whatever the failing command redirected
  if [ $rc -ne 0 ] && [ -z "$ERROR" ]; then
    if [ -n "$TMP" ] && [ -f "$TMP/error" ]; then
      ERROR=$(cat "$TMP/error")
    else
      ERROR="exit status $rc"
      echo "demo: FAILED at $STEP: $ERROR" >&2
    fi
  fi
  for n in "${!PID[@]}"; do
    pids+="${pids:+,}${PID[$n]}"
    case $n in validator | ticker | watchdog) ;; *) others+=("$n") ;; esac
  done
  # the validator first, then the miners and any command still running, the block ticker, and
  # last the chain they all talk to
  stop_pids validator
  stop_pids "${others[@]}"
  stop_pids ticker watchdog
  if [ -n "$PORT" ]; then
    CHAIN_RUN_DIR=$TMP/run "$CHAIN_DIR/stop.sh" "$PORT" >/dev/null 2>&1
  fi
  if [ -n "$TMP" ] && [ -d "$TMP/logs" ]; then
    for f in "$TMP"/logs/*.log "$TMP"/run/*.log; do
      [ -s "$f" ] || continue
      if [ $rc -ne 0 ]; then
        echo "---- the last lines of $(basename "$f")" >&2
        tail -n 15 "$f" >&2
      fi
      # sanitizer reports (test builds) must not vanish with the temp dir
      if grep -qE 'Sanitizer|runtime error:' "$f"; then
        echo "---- a sanitizer report in $(basename "$f"):" >&2
        grep -A 30 -E 'Sanitizer|runtime error:' "$f" | head -n 80 >&2
      fi
    done
  fi
  if [ -n "${DEMO_LOGS:-}" ] && [ -n "$TMP" ] && [ -d "$TMP/logs" ]; then
    mkdir -p "$DEMO_LOGS" && cp "$TMP"/logs/*.log "$TMP"/run/*.log "$DEMO_LOGS"/ 2>/dev/null
  fi
  if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
  [ $rc -eq 0 ] && [ -z "$RESULT" ] && rc=1 # never a success without a report
  if [ $rc -eq 0 ] && awk -v e="$(elapsed)" -v b="$BUDGET" 'BEGIN { exit !(e >= b) }'; then
    STEP=time ERROR="it took $(elapsed) s with the teardown (limit $BUDGET s)" rc=1
    echo "demo: FAILED at $STEP: $ERROR" >&2
  fi
  printf 'DEMO_RESULT %s\n' "$(RC=$rc ERR=$ERROR STEPN=$STEP ELAPSED=$(elapsed) PIDS=$pids \
    TMPD=$TMP CPORT=$PORT RESULT=${RESULT:-null} node -e '
      const e = process.env, ok = e.RC === "0";
      const r = JSON.parse(e.RESULT) || {};
      Object.assign(r, { ok: ok && r.ok === true, failed_step: ok ? null : e.STEPN,
        error: ok ? null : e.ERR || null, elapsed_s: Number(e.ELAPSED),
        chain_port: e.CPORT ? Number(e.CPORT) : null,
        pids: e.PIDS ? e.PIDS.split(",").map(Number) : [], tmp_dir: e.TMPD });
      console.log(JSON.stringify(r));' 2>/dev/null || echo '{"ok":false}')"
  exit $rc
}
exec 3>&1 4>&2 # (closed for the processes that outlive a step)
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# ganglion ARGS...: its stdout; a failure names the step and shows ganglion's message.
g() {
  local out
  if ! out=$("$G" "$@" 2>"$TMP/err"); then
    fail "ganglion ${1:-} ${2:-}: $(tail -n 3 "$TMP/err")"
  fi
  printf '%s' "$out"
}
# The same without failing the step, for polling.
try_g() { "$G" "$@" 2>>"$TMP/logs/poll.log"; }
# json EXPR: EXPR over the JSON on stdin (as `d`), printed as text or JSON.
json() {
  node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); const v = ('"$1"');
    process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));'
}
free_port() { # on IP (default 127.0.0.1)
  node -e 'const s = require("net").createServer();
    s.listen(0, process.argv[1], () => { console.log(s.address().port); s.close(); });' \
    "${1:-127.0.0.1}"
}
# wait_until SECONDS WHAT CMD...: poll CMD every 0.5 s until it succeeds.
wait_until() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "$what: not after ${limit} s"
    sleep 0.5
  done
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null || fail "$1 exited early (its log is below)"; }
# jump_to HEIGHT: one block, built at that height (the blocks between are skipped).
jump_to() {
  g chain rpc dev_newBlock "[{\"count\": 1, \"unsafeBlockHeight\": $1}]" "${CH[@]}" >/dev/null
}
head_number() { g chain head "${CH[@]}" | json 'd.number'; }
# sudo_ok NAME: the Sudo.sudo receipt in $TMP/NAME.out dispatched its inner call with Ok.
sudo_ok() {
  local r
  r=$(json 'JSON.stringify(d.events.find((e) => e.event === "Sudid").fields.sudo_result)' \
    <"$TMP/$1.out")
  [ "$r" = '{"Ok":null}' ] || fail "sudo ($1): $r"
}

# ---- 0. what the demo needs ------------------------------------------------------------------
STEP=prerequisites
command -v node >/dev/null || fail "Node.js >= 20 is needed for the local chain (make deps)"
command -v curl >/dev/null || fail "curl is needed (make deps)"
[[ $STEPS =~ ^[1-9][0-9]*$ ]] || fail "DEMO_STEPS is a number of steps (>= 1)"
[[ $BUDGET =~ ^[1-9][0-9]*$ ]] || fail "DEMO_BUDGET_S is a number of seconds"
[ -x "$G" ] || fail "no executable at $G (make)"
if [ ! -x "$CHAIN_DIR/start.sh" ] || [ ! -d "$CHAIN_DIR/node_modules/@acala-network/chopsticks" ]; then
  fail "the local chain is not installed in $CHAIN_DIR (make chain-metadata)"
fi
help=$("$G" --help 2>&1 || true)
if ! grep -q '^ *miner' <<<"$help" || ! grep -q '^ *validator' <<<"$help"; then
  fail "$G has no miner and validator roles yet"
fi
# A watchdog: past the time limit the demo stops (when the command in flight returns; each
# ganglion command has its own 60 s timeout), so it never hangs.
trap 'fail "not done after $BUDGET s"' ALRM
(
  trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$BUDGET" &
  s=$!
  wait $s
  kill -ALRM $$ 2>/dev/null
) 3>&- 4>&- &
PID[watchdog]=$!

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ganglion-demo.XXXXXX")
chmod 700 "$TMP"
mkdir -p "$TMP/logs" "$TMP/run" "$TMP/state"

CONFIG=$CHAIN_DIR/chain.yml
if [ -n "${GANGLION_CHAIN_SPEC:-}" ]; then
  [ -f "$GANGLION_CHAIN_SPEC" ] || fail "GANGLION_CHAIN_SPEC=$GANGLION_CHAIN_SPEC is not a file"
  case "$GANGLION_CHAIN_SPEC" in
  *.yml | *.yaml) CONFIG=$(realpath "$GANGLION_CHAIN_SPEC") ;;
  *.json) # a raw chain spec, run with chain.yml's settings
    sed "s|^genesis:.*|genesis: $(realpath "$GANGLION_CHAIN_SPEC")|" "$CHAIN_DIR/chain.yml" \
      >"$TMP/chain.yml"
    CONFIG=$TMP/chain.yml
    ;;
  *) fail "GANGLION_CHAIN_SPEC is a chopsticks config (.yml) or a raw chain spec (.json)" ;;
  esac
fi

# ---- 1. the chain ----------------------------------------------------------------------------
STEP=chain
say "starting the local chain ($CONFIG)"
URL=""
for attempt in 1 2 3; do # a port found free can be taken before chopsticks binds it
  PORT=$(free_port)
  if URL=$(CHAIN_RUN_DIR=$TMP/run CHAIN_START_TIMEOUT=120 "$CHAIN_DIR/start.sh" "$PORT" \
    "$CONFIG" 2>"$TMP/logs/chain-start.log" 3>&- 4>&- | tail -n 1) && [[ $URL == ws://* ]]; then
    break
  fi
  [ $attempt -lt 3 ] || fail "the chain did not start: $(tail -n 2 "$TMP/logs/chain-start.log")"
done
CH=(--subtensor.chain_endpoint "$URL" --chain.cache_dir "$TMP/cache")
say "chain at $URL, head #$(head_number)"

# ---- 2. wallets ------------------------------------------------------------------------------
STEP=wallets
W=(--wallet.path "$TMP/wallets" --wallet.name demo)
# the mnemonics they print are secrets (of throw-away keys, still): not shown
g wallet new-coldkey --no-password "${W[@]}" >/dev/null
for h in validator miner1 miner2 miner3; do
  g wallet new-hotkey "${W[@]}" --wallet.hotkey $h >/dev/null
done
COLDKEY=$(g wallet show "${W[@]}" | json 'd.coldkey.ss58')
declare -A HK=()
for h in validator miner1 miner2 miner3; do
  HK[$h]=$(g wallet show "${W[@]}" --wallet.hotkey $h | json 'd.hotkey.ss58')
done
say "wallet demo: coldkey $COLDKEY"
say "  hotkeys validator ${HK[validator]}, miners ${HK[miner1]} ${HK[miner2]} ${HK[miner3]}"

# ---- 3. funds, and the network rate limit lifted -----------------------------------------------
# chopsticks handles one extrinsic at a time, so fewer is faster: //Alice (sudo) funds the coldkey
# with `transfer`, then in one batch funds the hotkeys (they sign serve_axon and set_weights) and
# lifts the limit on registering subnets (genesis registered netuid 1 at block 0).
STEP=fund
g transfer --suri //Alice --dest "$COLDKEY" --amount 5000 "${CH[@]}" >/dev/null
calls='{"Sudo":{"sudo":{"call":{"AdminUtils":{"sudo_set_network_rate_limit":{"rate_limit":0}}}}}}'
for h in validator miner1 miner2 miner3; do
  calls+=",{\"Balances\":{\"transfer_keep_alive\":{\"dest\":\"${HK[$h]}\",\"value\":1000000000}}}"
done
g chain submit Utility batch_all "{\"calls\":[$calls]}" --suri //Alice "${CH[@]}" >"$TMP/fund.out"
sudo_ok fund
say "funded: the coldkey 5000 TAO, each hotkey 1 TAO; subnet registration rate limit 0"

# ---- 4. a subnet, owned by the coldkey with the validator's hotkey (uid 0) -------------------------
STEP=subnet
NETUID=$(g subnet create "${W[@]}" --wallet.hotkey validator "${CH[@]}" | json 'd.netuid')
[[ $NETUID =~ ^[0-9]+$ ]] || fail "subnet create gave no netuid"
# weights at any block, in the clear (not commit-reveal)
g chain submit Sudo sudo "{\"call\":{\"Utility\":{\"batch_all\":{\"calls\":[
  {\"AdminUtils\":{\"sudo_set_weights_set_rate_limit\":{\"netuid\":$NETUID,\"weights_set_rate_limit\":0}}},
  {\"AdminUtils\":{\"sudo_set_commit_reveal_weights_enabled\":{\"netuid\":$NETUID,\"enabled\":false}}}]}}}}" \
  --suri //Alice "${CH[@]}" >"$TMP/sudo_subnet.out"
sudo_ok sudo_subnet
say "subnet $NETUID: weights rate limit 0, commit-reveal off"

# ---- 5. three miners registered by burn (the coldkey pays) ---------------------------------------
STEP=register
for h in miner1 miner2 miner3; do
  g register --netuid "$NETUID" --hotkey "${HK[$h]}" "${W[@]}" "${CH[@]}" >/dev/null
done
# (storage reads, not runtime calls: the chain runs those in its one WASM executor)
declare -A UID_OF=()
for h in validator miner1 miner2 miner3; do
  UID_OF[$h]=$(g chain query SubtensorModule Uids "$NETUID" "\"${HK[$h]}\"" "${CH[@]}")
  [[ ${UID_OF[$h]} =~ ^[0-9]+$ ]] || fail "$h (${HK[$h]}) is not registered on subnet $NETUID"
done
say "registered: validator uid ${UID_OF[validator]}, miners uids ${UID_OF[miner1]} ${UID_OF[miner2]} ${UID_OF[miner3]}"

# ---- 6. the subnet started (DurationOfStartCall blocks after its registration), stake, permit ----
# A wait for N blocks costs one block: chopsticks builds it at the height asked for and skips the
# ones between (dev_newBlock's unsafeBlockHeight). A skipped block has no hash on chain, so an
# extrinsic signed at the height before the jump (a mortal one, born there) is refused as
# ancientBirthBlock: no one else signs until the jumps are done (the miners start after).
STEP=start_call
wait_blocks=$(g chain constant SubtensorModule DurationOfStartCall "${CH[@]}")
reg_at=$(g chain query SubtensorModule NetworkRegisteredAt "$NETUID" "${CH[@]}")
head=$(head_number)
if [ "$head" -lt $((reg_at + wait_blocks)) ]; then jump_to $((reg_at + wait_blocks)); fi
g chain submit SubtensorModule start_call "{\"netuid\":$NETUID}" "${W[@]}" "${CH[@]}" >/dev/null
STEP=stake
g stake add --netuid "$NETUID" --amount 100 "${W[@]}" --wallet.hotkey validator "${CH[@]}" >/dev/null
STEP=permit
# the subnet's next epoch hands out validator permits by stake: it runs at the blocks where
# (block + netuid + 1) % (tempo + 1) == tempo (the runtime's blocks_until_next_epoch)
tempo=$(g chain query SubtensorModule Tempo "$NETUID" "${CH[@]}")
has_permit() {
  [ "$(try_g chain query SubtensorModule ValidatorPermit "$NETUID" "${CH[@]}" |
    json "d[${UID_OF[validator]}]")" = true ]
}
for _ in 1 2; do
  has_permit && break
  head=$(head_number)
  jump_to $((head + (tempo + 1) - (head + NETUID + 2) % (tempo + 1)))
done
has_permit || fail "the validator has no permit after two epochs"
say "subnet started, 100 TAO staked on the validator, its permit given (head #$(head_number))"

# ---- 7. the miners ------------------------------------------------------------------------------
STEP=miners
declare -A IP=() APORT=()
i=2
for h in miner1 miner2 miner3; do
  IP[$h]=127.0.0.$i # the runtime refuses the axon ip 127.0.0.1
  APORT[$h]=$(free_port "${IP[$h]}")
  mkdir -p "$TMP/state/$h"
  "$G" miner --subtensor.chain_endpoint "$URL" --netuid "$NETUID" "${W[@]}" --wallet.hotkey $h \
    --axon.ip "${IP[$h]}" --axon.port "${APORT[$h]}" --axon.external_ip "${IP[$h]}" \
    --state_dir "$TMP/state/$h" --logging.format json >"$TMP/logs/$h.log" 2>&1 3>&- 4>&- &
  PID[$h]=$!
  i=$((i + 1))
done
say "miners started on ${IP[miner1]}:${APORT[miner1]} ${IP[miner2]}:${APORT[miner2]} ${IP[miner3]}:${APORT[miner3]}"

# ---- 8. the miners serving, their axons on chain (serve_axon) ---------------------------------
STEP=miners
healthy() {
  local h
  for h in miner1 miner2 miner3; do alive $h; done
  for h in miner1 miner2 miner3; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://${IP[$h]}:${APORT[$h]}/healthz")" = 200 ] ||
      return 1
  done
}
wait_until 60 "the miners' /healthz answering 200" healthy
served() { # SubtensorModule.Axons holds the ip as an integer: 127.0.0.x is 0x7f000000 + x
  local a h
  for h in miner1 miner2 miner3; do alive $h; done
  for h in miner1 miner2 miner3; do
    a=$(try_g chain query SubtensorModule Axons "$NETUID" "\"${HK[$h]}\"" "${CH[@]}") || return 1
    [ "$(json 'd ? d.ip + ":" + d.port : ""' <<<"$a")" = "$((0x7f000000 + ${IP[$h]##*.})):${APORT[$h]}" ] ||
      return 1
  done
}
wait_until 60 "the miners' axons on chain" served
say "miners healthy (/healthz 200), their axons on chain"

# ---- 9. the validator, with a block every second -------------------------------------------------
STEP=validator
(
  trap 'exit 0' TERM
  while :; do
    "$G" chain rpc dev_newBlock '[{"count": 1}]' "${CH[@]}" >/dev/null 2>>"$TMP/logs/ticker.log" || true
    sleep 1
  done
) 3>&- 4>&- &
PID[ticker]=$!
MPORT=$(free_port)
mkdir -p "$TMP/state/validator"
"$G" validator --subtensor.chain_endpoint "$URL" --netuid "$NETUID" "${W[@]}" \
  --wallet.hotkey validator --validator.step_interval 2 --validator.epoch_length 2 \
  --validator.timeout 5 --validator.max_steps "$STEPS" --metrics.port "$MPORT" \
  --state_dir "$TMP/state/validator" --logging.format json >"$TMP/logs/validator.log" 2>&1 3>&- 4>&- &
PID[validator]=$!
say "validator started: $STEPS steps, one every 2 s; weights every 2 blocks"
limit=$((BUDGET - 15 - SECONDS))
[ $limit -gt 30 ] || limit=30
deadline=$((SECONDS + limit))
while kill -0 "${PID[validator]}" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the validator did not finish $STEPS steps in ${limit} s"
  sleep 0.5
done
vrc=0
wait "${PID[validator]}" || vrc=$?
unset 'PID[validator]'
[ $vrc -eq 0 ] || fail "the validator exited with status $vrc"
stop_pids ticker
unset 'PID[ticker]'
say "validator done"

# ---- 10. the report: the validator's state, and the weights read back from chain storage --------
STEP=report
g validator state --state_dir "$TMP/state/validator" >"$TMP/state.json"
g chain query SubtensorModule Weights "$NETUID" "${UID_OF[validator]}" "${CH[@]}" >"$TMP/weights.json"
for h in miner1 miner2 miner3; do
  printf '{"name":"%s","uid":%s,"hotkey":"%s","axon":"%s:%s"}\n' "$h" "${UID_OF[$h]}" "${HK[$h]}" \
    "${IP[$h]}" "${APORT[$h]}"
done >"$TMP/miners.jsonl"
STEP=checks
checks=0
NETUID=$NETUID VUID=${UID_OF[validator]} VHOTKEY=${HK[validator]} URL=$URL CPORT=$PORT \
  BUDGET=$BUDGET ELAPSED=$(elapsed) node - "$TMP" <<'EOF' || checks=$?
// The validator's state and the chain's weights: the human report on stdout, the result's JSON
// in result.json; exit 1 when a check fails.
const fs = require('fs');
const dir = process.argv[2], env = process.env;
const st = JSON.parse(fs.readFileSync(`${dir}/state.json`, 'utf8'));
const raw = JSON.parse(fs.readFileSync(`${dir}/weights.json`, 'utf8')) || [];
const miners = fs.readFileSync(`${dir}/miners.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const norm = (pairs) => { // [[uid, w]] -> {uid: w / sum}
  const sum = pairs.reduce((a, [, w]) => a + Number(w), 0);
  return Object.fromEntries(pairs.map(([u, w]) => [u, sum > 0 ? Number(w) / sum : 0]));
};
const queried = (st.last_step && st.last_step.queried) || [];
const scores = Object.fromEntries((st.scores || []).map((s) => [s.uid, s.score]));
const vw = st.weights || { block: 0, uids: [], values: [] };
const chainW = norm(raw);
const valW = norm(vw.uids.map((u, i) => [u, vw.values[i]]));
const uids = [...new Set([...Object.keys(chainW), ...Object.keys(valW)].map(Number))].sort((a, b) => a - b);
const diff = uids.reduce((m, u) => Math.max(m, Math.abs((chainW[u] || 0) - (valW[u] || 0))), 0);
const rows = miners.map((m) => {
  const q = queried.find((x) => x.uid === m.uid) || {};
  return { ...m, status: q.status ?? null, message: q.message ?? null,
    process_time: q.process_time ?? null, reward: q.reward ?? null, score: scores[m.uid] ?? null };
});
const fix = (x, n) => (typeof x === 'number' ? x.toFixed(n) : String(x));
console.log(`validator uid ${env.VUID}: ${st.step} steps; the last one at block ${st.last_step ? st.last_step.block : '-'} queried:`);
for (const r of rows) {
  console.log(`  ${r.name}  uid ${r.uid}  ${r.axon}  status ${r.status} ${r.message || ''}  ` +
    `process_time ${fix(r.process_time, 4)} s  reward ${fix(r.reward, 4)}  score ${fix(r.score, 4)}`);
}
console.log(`weights set by the validator at block ${vw.block}, read back from SubtensorModule.Weights(${env.NETUID}, ${env.VUID}):`);
for (const u of uids) {
  const rw = raw.find(([x]) => x === u);
  console.log(`  uid ${u}: on chain ${fix(chainW[u] || 0, 6)} (u16 ${rw ? rw[1] : 0}), validator ${fix(valW[u] || 0, 6)}`);
}
const problems = [];
const mset = new Set(miners.map((m) => m.uid));
if (queried.length !== miners.length || !queried.every((q) => mset.has(q.uid)))
  problems.push(`the last step queried uids [${queried.map((q) => q.uid)}], not the miners' [${[...mset]}]`);
for (const r of rows) {
  if (r.status !== 200) problems.push(`${r.name} answered ${r.status} ${r.message || ''}`);
  if (!(r.score > 0)) problems.push(`${r.name}'s score is ${r.score}`);
}
if (!(vw.block > 0)) problems.push('the validator never set weights');
if (raw.length === 0) problems.push('no weights on chain');
if (!(diff <= 1e-3)) problems.push(`the weights on chain differ from the validator's by ${diff}`);
if (Number(env.ELAPSED) >= Number(env.BUDGET)) problems.push(`it took ${env.ELAPSED} s (limit ${env.BUDGET} s)`);
const result = {
  ok: problems.length === 0, netuid: Number(env.NETUID), chain: env.URL,
  validator: { uid: Number(env.VUID), hotkey: env.VHOTKEY, steps: st.step, last_block: st.last_block },
  miners: rows,
  weights: { block: vw.block, uids, chain: uids.map((u) => chainW[u] || 0),
    validator: uids.map((u) => valW[u] || 0), chain_u16: raw,
    validator_raw: { uids: vw.uids, values: vw.values }, max_abs_diff: diff, match: diff <= 1e-3 },
  problems,
};
fs.writeFileSync(`${dir}/result.json`, JSON.stringify(result));
if (problems.length) process.exit(1);
EOF
[ -f "$TMP/result.json" ] || fail "no report (see above)"
RESULT=$(cat "$TMP/result.json")
[ "$checks" -eq 0 ] || fail "$(json 'd.problems.join("; ")' <"$TMP/result.json")"
say "demo passed: 3 miners answered 200, the weights on chain equal the validator's scores"
