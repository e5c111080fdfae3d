#!/bin/bash
# The container's health check (Dockerfile HEALTHCHECK; installed as
# /usr/local/bin/ganglion-healthcheck): exit 0 when GET /healthz answers 200.
# bash's /dev/tcp instead of curl: the runtime image has no HTTP client.
# Port: GANGLION_HEALTH_PORT, else GANGLION_METRICS_PORT when not 0 (a
# validator's metrics server), else the axon's (GANGLION_AXON_PORT,
# BT_AXON_PORT, 8091). Host: GANGLION_HEALTH_HOST, default 127.0.0.1.
set -u
host=${GANGLION_HEALTH_HOST:-127.0.0.1}
port=${GANGLION_HEALTH_PORT:-}
if [ -z "$port" ]; then
  if [ "${GANGLION_METRICS_PORT:-0}" != 0 ]; then
    port=$GANGLION_METRICS_PORT
  else
    port=${GANGLION_AXON_PORT:-${BT_AXON_PORT:-8091}}
  fi
fi
if ! exec 3<>"/dev/tcp/$host/$port"; then
  echo "healthz: nothing listens on $host:$port" >&2
  exit 1
fi
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
if ! IFS= read -r -t 5 status <&3; then
  echo "healthz: no answer from $host:$port" >&2
  exit 1
fi
status=${status%$'\r'}
case "$status" in
"HTTP/1."?" 200"*) exit 0 ;;
*)
  echo "healthz: $host:$port answered '$status'" >&2
  exit 1
  ;;
esac
