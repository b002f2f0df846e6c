# What the bench scripts share (sourced, not run): a scratch folder $D removed at exit with
# the processes listed in PIDS, waiting for a listener, and the bench accounts' file.
D=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT

# Waits until something listens on 127.0.0.1:$1.
listening() {
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

# Writes the accounts `watchpost bench intake` sends for (numbered from 100000), $1 of them,
# as an `accounts import` file, to $2.
bench_accounts() {
python3 - "$1" > "$2" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    n = 100000 + i
    print(f'''[[accounts]]
number = "{n}"
premises = "residential"
address = "{n} Bench St, Springfield, IL"
country = "US"
region = "IL"
monitoring = "professional"
enrolled = "2026-01-01T00:00:00Z"
verbal_password = "bench"
[[accounts.contacts]]
name = "Bench Contact"
phone = "+15555550100"
''')
PY
}
