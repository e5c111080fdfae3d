#!/usr/bin/env bash
# Run benchmarks and, when the oracle is installed, their peers in the same
# run; print ops/s and the ratio ganglion / peer for every peer.
#   bench/run.sh BUILD_DIR ORACLE_DIR NAME...
# bench NAME prints "<benchmark> <ops/s>"; bench/peer/NAME.mjs prints
# "<benchmark> <peer> <ops/s>" on the inputs the bench wrote.
set -euo pipefail
build=$1 oracle=$2
shift 2
printf '%-22s %14s  %-16s %14s %9s\n' benchmark "ganglion ops/s" peer "peer ops/s" ratio
for name in "$@"; do
  inputs=$build/bench/$name-inputs.json
  out=$("$build/bench/$name" --inputs "$inputs")
  # a bench may measure its own floor: "peer <bench> <who> <ops/s>" lines
  ours=$(grep -v '^peer ' <<<"$out" || true)
  own_peer=$(sed -n 's/^peer //p' <<<"$out")
  peer=""
  if [ ! -f "$(dirname "$0")/peer/$name.mjs" ]; then
    :
  elif [ -d "$oracle/node_modules/@polkadot/util" ] && command -v node >/dev/null; then
    peer=$(node "$(dirname "$0")/peer/$name.mjs" "$oracle" "$inputs" 2>/dev/null) || {
      echo "bench: peer $name failed" >&2; peer=""; }
  else
    echo "bench: peers skipped: $oracle has no node_modules (make oracle installs it)" >&2
  fi
  peer=$(printf '%s\n%s\n' "$peer" "$own_peer")
  while read -r bench ops; do
    rows=$(awk -v n="$bench" '$1==n {print $2, $3}' <<<"$peer")
    if [ -z "$rows" ]; then
      printf '%-22s %14s  %-16s %14s %9s\n' "$bench" "$ops" - - -
      continue
    fi
    while read -r who pops; do
      printf '%-22s %14s  %-16s %14s %8.1fx\n' "$bench" "$ops" "$who" "$pops" \
        "$(awk -v a="$ops" -v b="$pops" 'BEGIN{print a/b}')"
    done <<<"$rows"
  done <<<"$ours"
done
