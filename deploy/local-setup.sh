#!/bin/bash
# compose.yaml's one-shot `setup` service: on the fresh local chain, make the
# wallets and subnet the local network runs on, with ganglion's own CLI.
# (deploy/demo.sh walks through the same kind of steps by hand, outside
# Docker.) Idempotent: run again on the same chain, it changes nothing.
#
#   wallet "local": coldkey //Alice (the chain's funded sudo key, dev only),
#   hotkeys validator (//Alice//validator), miner1, miner2 (//Alice//minerN);
#   subnet 2 owned by //Alice with the validator's hotkey as its owner
#   hotkey (uid 0); miner1 and miner2 registered (burned) and funded for
#   their serve_axon fee; the subnet started and 100 TAO staked on the
#   validator, so that it gets a validator permit.
#
# env: GANGLION (the executable), CHAIN (ws://chain:9944), WALLETS
# (/wallets), NETUID (2: compose.yaml's nodes use it; a fresh chain gives 2
# to the first new subnet, and this script fails if it got another).
set -euo pipefail
G=${GANGLION:-ganglion}
CHAIN=${CHAIN:-ws://chain:9944}
WALLETS=${WALLETS:-/wallets}
NETUID=${NETUID:-2}
HOTKEYS=(validator miner1 miner2)
chain=(--subtensor.chain_endpoint "$CHAIN")
wallet=(--wallet.path "$WALLETS" --wallet.name local)
say() { echo "setup: $*" >&2; }

# 1. wallets (the coldkey unencrypted: a development key on a local chain)
if [ ! -f "$WALLETS/local/coldkeypub.txt" ]; then
  "$G" wallet regen-coldkey --uri //Alice --no-password "${wallet[@]}" >&2
fi
declare -A ss58
for h in "${HOTKEYS[@]}"; do
  if [ ! -f "$WALLETS/local/hotkeys/$h" ]; then
    "$G" wallet regen-hotkey --uri "//Alice//$h" "${wallet[@]}" --wallet.hotkey "$h" >&2
  fi
  ss58[$h]=$("$G" wallet show "${wallet[@]}" --wallet.hotkey "$h" |
    sed -n 's/.*"hotkey":{[^}]*"ss58":"\([^"]*\)".*/\1/p')
  [ -n "${ss58[$h]}" ] || { say "no ss58 for hotkey $h"; exit 1; }
done

# 2. the subnet, owned by the validator's hotkey
if ! "$G" subnets --netuid "$NETUID" "${chain[@]}" | grep -q '"exists":true'; then
  # genesis registered subnet 1 at block 0: lift the network rate limit (sudo)
  "$G" chain submit Sudo sudo \
    '{"call":{"AdminUtils":{"sudo_set_network_rate_limit":{"rate_limit":0}}}}' \
    "${wallet[@]}" "${chain[@]}" >/dev/null
  got=$("$G" subnet create --hotkey "${ss58[validator]}" "${wallet[@]}" "${chain[@]}" |
    sed -n 's/.*"netuid":\([0-9]*\).*/\1/p')
  if [ "$got" != "$NETUID" ]; then
    say "the new subnet is $got, not $NETUID (is the chain fresh?)"
    exit 1
  fi
  say "subnet $NETUID created"
fi

# 3. miners: registered, and funded for their own serve_axon fee
for h in miner1 miner2; do
  "$G" register --netuid "$NETUID" --hotkey "${ss58[$h]}" "${wallet[@]}" "${chain[@]}" >/dev/null
  bal=$("$G" balance "${ss58[$h]}" "${chain[@]}" | sed -n 's/.*":\([0-9]*\)}.*/\1/p')
  if [ "${bal:-0}" -lt 1000000000 ]; then
    "$G" transfer --dest "${ss58[$h]}" --amount 10 "${wallet[@]}" "${chain[@]}" >/dev/null
  fi
  say "$h ${ss58[$h]} registered"
done

# 4. start the subnet (allowed DurationOfStartCall blocks after its
# registration) and stake on the validator
for i in $(seq 1 120); do
  [ "$("$G" chain query SubtensorModule FirstEmissionBlockNumber "$NETUID" "${chain[@]}")" = null ] || break
  if out=$("$G" chain submit SubtensorModule start_call "{\"netuid\":$NETUID}" \
    "${wallet[@]}" "${chain[@]}" 2>&1); then
    say "subnet $NETUID started"
    break
  fi
  case "$out" in
  *NeedWaitingMoreBlocksToStarCall*) sleep 1 ;;
  *) say "start_call: $out"; exit 1 ;;
  esac
  [ "$i" -lt 120 ] || { say "start_call: still too early after 120 tries (are blocks being built?)"; exit 1; }
done
if ! "$G" chain runtime-call StakeInfoRuntimeApi get_stake_info_for_hotkey_coldkey_netuid \
  "[\"${ss58[validator]}\",\"$("$G" wallet show "${wallet[@]}" --wallet.hotkey validator |
    sed -n 's/.*"coldkey":{[^}]*"ss58":"\([^"]*\)".*/\1/p')\",$NETUID]" "${chain[@]}" |
  grep -q '"stake":[1-9]'; then
  "$G" stake add --netuid "$NETUID" --hotkey "${ss58[validator]}" --amount 100 \
    "${wallet[@]}" "${chain[@]}" >/dev/null
fi
say "validator ${ss58[validator]} staked"
echo "{\"netuid\":$NETUID,\"validator\":\"${ss58[validator]}\",\"miner1\":\"${ss58[miner1]}\",\"miner2\":\"${ss58[miner2]}\"}"
