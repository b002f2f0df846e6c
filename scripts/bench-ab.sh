#!/bin/bash
# Compares the CPU two builds of `watchpost serve` spend per signal, loaded side by side at
# the same time, so that whatever else the machine does (other builds, a noisy neighbour)
# slows both alike (README, "Performance and scale"). One build run after the other on a
# shared 2-core machine varied by ±30 % in signals/s and far more in ACK p99; run together,
# each at the same paced rate, the difference in CPU per signal is what the change did.
# Usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY [RATE] [SECONDS] [ROUNDS]
#   RATE: signals/s offered to each (default 6000), SECONDS measured (default 20), ROUNDS
#   (default 3; the two builds swap ports each round). MIX=realistic (default) or burglary,
#   CONNECTIONS=500 (each), ACCOUNTS=1000.
# Each build enrols the accounts with its own binary, in its own new SQLite file.
set -eu
A=$1
B=$2
RATE=${3:-6000}
S=${4:-20}
ROUNDS=${5:-3}
MIX=${MIX:-realistic}
C=${CONNECTIONS:-500}
N=${ACCOUNTS:-1000}
. "$(cd "$(dirname "$0")" && pwd)/bench-common.sh"
bench_accounts "$N" "$D/accounts.toml"

# Starts build $1 (label $2) on DC-09 port $3, HTTP port $4; echoes its pid.
start() {
  local dir="$D/$2.$round"
  mkdir -p "$dir"
  if ! "$1" accounts import "$D/accounts.toml" --db "$dir/center.db" > /dev/null 2> "$dir/import.log"; then
    echo "$1 could not enrol the bench accounts:" >&2
    cat "$dir/import.log" >&2
    exit 1
  fi
  "$1" serve --db "$dir/center.db" --center-name "Bench" --callback-number +15555550199 \
    --dc09 "127.0.0.1:$3" --http "127.0.0.1:$4" > /dev/null 2> "$dir/serve.log" &
  echo $!
}

for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then pa=17211; pb=17221; else pa=17221; pb=17211; fi
  a=$(start "$A" old $pa $((pa + 50))); PIDS+=("$a")
  b=$(start "$B" new $pb $((pb + 50))); PIDS+=("$b")
  listening $pa
  listening $pb
  loads=()
  for side in "old $pa $a" "new $pb $b"; do
    set -- $side
    "$A" bench intake --target "127.0.0.1:$2" --connections "$C" --accounts "$N" \
      --seconds "$S" --warmup 2 --mix "$MIX" --rate "$RATE" --pid "$3" --after 1 --json \
      > "$D/$1.$round.json" &
    loads+=($!)
  done
  wait "${loads[@]}"
  kill "$a" "$b"
  while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do sleep 0.1; done
  PIDS=()
done

python3 - "$D" "$ROUNDS" "$RATE" <<'PY'
import json, sys
d, rounds, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"each build offered {rate}/s, loaded at the same time; CPU µs per signal, ACK p50/p99 ms")
print(f"{'round':>5}  {'old µs':>7} {'new µs':>7} {'new/old':>8}   {'old p50/p99':>14} {'new p50/p99':>14}")
ratios = []
for r in range(1, rounds + 1):
    o = json.load(open(f"{d}/old.{r}.json")); n = json.load(open(f"{d}/new.{r}.json"))
    us = lambda x: x["process"]["cpu_load_pct"] / 100 * 1e6 / x["signals_per_s"]
    ratios.append(us(n) / us(o))
    print(f"{r:>5}  {us(o):>7.1f} {us(n):>7.1f} {ratios[-1]:>8.3f}   "
          f"{o['ack_p50_ms']:>6}/{o['ack_p99_ms']:<7} {n['ack_p50_ms']:>6}/{n['ack_p99_ms']:<7}")
ratios.sort()
print(f"median new/old CPU per signal: {ratios[len(ratios) // 2]:.3f}")
PY
