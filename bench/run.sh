#!/usr/bin/env bash
# Run one benchmark and, when the oracle is installed, its polkadot-js peer in
# the same run; print a table of ops/s and the ratio ganglion / peer.
#   bench/run.sh BUILD_DIR ORACLE_DIR
set -euo pipefail
build=$1 oracle=$2
inputs=$build/bench/codec-inputs.json
ours=$("$build/bench/codec" --inputs "$inputs")
if [ -d "$oracle/node_modules/@polkadot/util" ]; then
  peer=$(node "$(dirname "$0")/peer/codec.mjs" "$oracle" "$inputs" 2>/dev/null)
else
  peer=""
  echo "bench: peer skipped: $oracle has no node_modules (make oracle installs it)" >&2
fi
printf '%-22s %16s %16s %9s\n' benchmark "ganglion ops/s" "polkadot-js ops/s" ratio
while read -r name ops; do
  p=$(awk -v n="$name" '$1==n {print $2}' <<<"$peer")
  if [ -n "$p" ]; then
    printf '%-22s %16s %16s %8.1fx\n' "$name" "$ops" "$p" "$(awk -v a="$ops" -v b="$p" 'BEGIN{print a/b}')"
  else
    printf '%-22s %16s %16s %9s\n' "$name" "$ops" "-" "-"
  fi
done <<<"$ours"
