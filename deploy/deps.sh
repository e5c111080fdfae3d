#!/usr/bin/env bash
# Install ganglion's build and test dependencies from Debian bookworm (with
# BENCH=1 the benchmarks' peers as well), and
# check the Node.js the test peers in ../shared need. Idempotent: packages
# already present are not touched, and apt is not called at all when nothing
# is missing.
set -euo pipefail

PKGS=(
  build-essential pkg-config git ca-certificates
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libmsgpack-dev
  libsodium-dev libxxhash-dev libjansson-dev libyaml-dev libcriterion-dev
  # the example synapse worker (examples/worker.py) and its tests
  python3-msgpack
  node-llhttp
  # sanitizers, fuzzing and style: clang + its runtimes, clang-format
  clang libclang-rt-14-dev clang-format
)
# BENCH=1 (make bench): the benchmarks' peers too: wrk and nginx
# (bench/axon), aiohttp (bench/dendrite).
if [ "${BENCH:-0}" = 1 ]; then
  PKGS+=(wrk nginx-light python3-aiohttp)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=(sudo); else
      echo "deps: not root and no sudo; run as root:" >&2
      echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "deps: all ${#PKGS[@]} Debian packages present"
fi

# Node.js >= 20 with npm runs the local chain and the oracle (../shared).
# Never replace a newer Node with Debian's 18: only report what is missing.
if command -v node >/dev/null && command -v npm >/dev/null; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -ge 20 ]; then
    echo "deps: node $(node --version), npm $(npm --version)"
  else
    echo "deps: WARNING node $(node --version) is older than 20; the chain and oracle" \
         "tests will skip. Install Node.js >= 20 (with npm)." >&2
  fi
else
  echo "deps: WARNING node and/or npm not found; the chain and oracle tests will" \
       "skip. Install Node.js >= 20 with npm." >&2
fi
