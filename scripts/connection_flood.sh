#!/bin/bash
# Measures a panel's DC-09 ACK latency while scripts/connection_flood.py holds 1,100 idle
# connections to each of serve's ports from 127.0.0.2 (README, "Connection floods").
# Usage: scripts/connection_flood.sh [FD_LIMIT|default]   (WATCHPOST=path to the binary)
set -u
FD=${1:-1024}
W=${WATCHPOST:-target/release/watchpost}
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d)
DC=127.0.0.1:17100
HT=127.0.0.1:18080
(
  [ "$FD" != default ] && ulimit -n "$FD"
  RUST_LOG=info exec "$W" serve --db "$D/c.db" --create --center-name "Flood test" \
      --callback-number +15555550199 --dc09 $DC --http $HT > "$D/serve.out" 2> "$D/serve.log"
) &
SERVE=$!
sleep 2
summary() { python3 -c 'import json,sys; r=json.load(sys.stdin); print({k: r[k] for k in r if k.startswith("ack_") or k in ("signals", "errors")})'; }
bench() { "$W" bench intake --target $DC --connections 1 --accounts 1 --seconds "$1" --warmup 1 --json | summary; }
echo "open files: $(grep 'open files' /proc/$SERVE/limits)"
echo "baseline: $(bench 5)"
python3 "$HERE/connection_flood.py" 1100 45 1 127.0.0.2 $DC $HT > "$D/flood.out" 2>&1 &
FLOOD=$!
sleep 6
( for _ in $(seq 1 12); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 "http://$HT/api/openapi.json"
    sleep 1
  done ) > "$D/http.out" &
echo "during the flood: $(bench 15)"
echo "descriptors held by serve: $(ls /proc/$SERVE/fd | wc -l)"
wait $FLOOD
echo "flood: $(tail -1 "$D/flood.out")"
echo "console (status seconds): $(tr '\n' ' ' < "$D/http.out")"
kill -0 $SERVE && echo "serve is still up" || echo "serve DIED"
echo "listener warnings: $(grep -c 'WARN.*watchpost_server::listen' "$D/serve.log")"
kill $SERVE
wait
rm -rf "$D"
