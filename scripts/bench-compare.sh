#!/bin/bash
# Loads three DC-09 receivers on this machine, one after the other, with the same
# `watchpost bench intake` run, and prints them side by side (README, "Performance and
# scale"): `watchpost serve` on a new SQLite file with the bench accounts enrolled (durable
# ACKs), `watchpost bench noop-receiver` (ACKs, stores nothing) and pysiaalarm's receiver
# (scripts/pysia_receiver.py, stores nothing; `pip install pysiaalarm`).
# Usage: scripts/bench-compare.sh [CONNECTIONS] [SECONDS] [MIX] [RATE]
#   MIX: burglary (default) or realistic; RATE: signals/s offered (default: flat out)
#   WATCHPOST=path to the binary (target/release/watchpost), ACCOUNTS=1000, WARMUP=2,
#   RECEIVERS="serve noop pysiaalarm" (those to load, e.g. serve alone to compare two builds),
#   SERVE_LOG=file to keep what `serve` logged (it is removed with the run's folder otherwise),
#   TIMELINE=prefix to keep each receiver's ACKs as prefix.<receiver>.csv (`--timeline`)
set -eu
C=${1:-1000}
S=${2:-10}
MIX=${3:-burglary}
RATE=${4:-}
N=${ACCOUNTS:-1000}
WARMUP=${WARMUP:-2}
W=${WATCHPOST:-target/release/watchpost}
RECEIVERS=${RECEIVERS:-serve noop pysiaalarm}
wanted() { [[ " $RECEIVERS " == *" $1 "* ]]; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench-common.sh"

# Runs the generator against 127.0.0.1:$2, sampling process $3, into $D/$1.json.
load() {
  local extra=()
  [ -n "$RATE" ] && extra+=(--rate "$RATE")
  [ -n "${TIMELINE:-}" ] && extra+=(--timeline "$TIMELINE.$1.csv")
  "$W" bench intake --target "127.0.0.1:$2" --connections "$C" --accounts "$N" \
    --seconds "$S" --warmup "$WARMUP" --mix "$MIX" --pid "$3" --after 5 --json \
    "${extra[@]}" > "$D/$1.json"
}

if wanted serve; then
bench_accounts "$N" "$D/accounts.toml"
echo "enrolling $N accounts..." >&2
"$W" accounts import "$D/accounts.toml" --db "$D/center.db" > /dev/null

"$W" serve --db "$D/center.db" --center-name "Bench" --callback-number +15555550199 \
  --dc09 127.0.0.1:17201 --http 127.0.0.1:17281 > "$D/serve.out" 2> "${SERVE_LOG:-$D/serve.log}" &
PIDS+=($!)
listening 17201
echo "loading serve..." >&2
load serve 17201 "${PIDS[-1]}"
kill "${PIDS[-1]}"
fi

if wanted noop; then
"$W" bench noop-receiver --listen 127.0.0.1:17202 > /dev/null &
PIDS+=($!)
listening 17202
echo "loading the no-op receiver..." >&2
load noop 17202 "${PIDS[-1]}"
kill "${PIDS[-1]}"
fi

if wanted pysiaalarm; then
python3 "$HERE/pysia_receiver.py" --port 17203 --accounts "$N" > /dev/null 2>&1 &
PIDS+=($!)
listening 17203
echo "loading pysiaalarm..." >&2
load pysiaalarm 17203 "${PIDS[-1]}"
kill "${PIDS[-1]}"
fi

python3 - "$D" <<'PY'
import json, sys
rows = [("watchpost serve (SQLite, durable)", "serve"), ("no-op ACK server", "noop"),
        ("pysiaalarm (stores nothing)", "pysiaalarm")]
import glob
first = json.load(open(sorted(glob.glob(f"{sys.argv[1]}/*.json"))[0]))
offered = f"{first['rate']}/s offered" if first["rate"] else "flat out"
print(f"{first['connections']} connections, {first['accounts']} accounts, {first['mix']} mix, "
      f"{offered}, {first['seconds']} s measured")
print(f"{'receiver':36} {'signals/s':>10} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
      f"{'max ms':>8} {'CPU %':>6} {'RSS peak':>9} {'RSS 5 s after':>14}")
for name, key in rows:
    try:
        r = json.load(open(f"{sys.argv[1]}/{key}.json"))
    except FileNotFoundError:
        continue
    p = r.get("process") or {}
    print(f"{name:36} {r['signals_per_s']:>10.0f} {r['errors']:>7} {r['ack_p50_ms']:>8} "
          f"{r['ack_p99_ms']:>8} {r['ack_max_ms']:>8} {p.get('cpu_load_pct', ''):>6} "
          f"{str(p.get('rss_peak_mb', '')) + ' MB':>9} {str(p.get('rss_after_mb', '')) + ' MB':>14}")
PY
