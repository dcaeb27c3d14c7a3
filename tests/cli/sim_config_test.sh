#!/bin/sh
# `wattline-sim --config FILE`: a [[gateway]] of meters answers mbpoll by unit id through one port,
# SIGHUP re-reads the [[fault]] tables and logs what changed, and a bad config exits 2.
# Usage: sim_config_test.sh PATH/TO/wattline-sim SOURCE_DIR
set -u
SIM="$1"
SRC="$2"
DIR=$(mktemp -d)
SIM_PID=""
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
fail() {
  echo "FAIL: $*" >&2
  [ -f "$DIR/sim.log" ] && cat "$DIR/sim.log" >&2
  exit 1
}

cat >"$DIR/bad.toml" <<'TOML'
[[fault]]
meter = "meter-01"
timeout_rate = 2.0
TOML
"$SIM" --config "$DIR/bad.toml" --profiles_dir "$SRC/profiles" >"$DIR/bad.log" 2>&1
RC=$?
[ "$RC" -eq 2 ] || fail "exit code $RC for a rate outside 0..1, expected 2"
grep -q "outside 0..1" "$DIR/bad.log" || fail "no clear error for a bad rate: $(cat "$DIR/bad.log")"

cat >"$DIR/sim.toml" <<'TOML'
[[gateway]]
port = 0
baud = 115200
meters = ["eastron-sdm630:1", "janitza-umg96rm-e:2"]
TOML
"$SIM" --config "$DIR/sim.toml" --profiles_dir "$SRC/profiles" \
  --meters_file "$DIR/meters.toml" >"$DIR/sim.log" 2>&1 &
SIM_PID=$!
i=0
while [ ! -s "$DIR/meters.toml" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "wattline-sim wrote no meters file"
  kill -0 "$SIM_PID" 2>/dev/null || fail "wattline-sim exited"
  sleep 0.1
done
[ "$(grep -c '^\[\[meter\]\]' "$DIR/meters.toml")" -eq 3 ] || fail "expected 3 meters: $(cat "$DIR/meters.toml")"
[ "$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DIR/meters.toml" | sort -u | wc -l)" -eq 1 ] ||
  fail "gateway meters do not share one port"
[ "$(grep -c '^transport = "tcp"$' "$DIR/meters.toml")" -eq 3 ] || fail "no transport = \"tcp\""
PORT=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DIR/meters.toml" | head -n 1)

# Unit 2 is the first UMG 96RM-E: voltage L1 is the float at 19000 (-0: 0-based, -B: ABCD,
# -1: once).
U=$(mbpoll -m tcp -p "$PORT" -a 2 -0 -r 19000 -c 1 -t 4:float -B -1 -o 2 127.0.0.1 |
  sed -n 's/^\[19000\]:[[:space:]]*\([-0-9.e+]*\).*/\1/p')
echo "unit 2 voltage_l1_n=$U"
[ -n "$U" ] || fail "no voltage read from unit 2"
awk -v u="$U" 'BEGIN { exit !(u >= 200 && u <= 260) }' || fail "voltage $U outside 200..260"

cat >>"$DIR/sim.toml" <<'TOML'

[[fault]]
meter = "meter-02"
max_read_registers = 10
TOML
kill -HUP "$SIM_PID"
i=0
until grep -q "faults changed: meter-02: none -> max_read_registers=10" "$DIR/sim.log"; do
  i=$((i + 1)); [ $i -gt 50 ] && fail "no log line for the reloaded fault"
  sleep 0.1
done
# 24 registers now get exception 03 (illegal data value).
mbpoll -m tcp -p "$PORT" -a 2 -0 -r 19000 -c 12 -t 4:float -B -1 -o 2 127.0.0.1 >"$DIR/big.out" 2>&1
grep -qi "illegal data value" "$DIR/big.out" ||
  fail "a read of 24 registers passed max_read_registers = 10: $(cat "$DIR/big.out")"
kill -0 "$SIM_PID" 2>/dev/null || fail "wattline-sim died"
echo PASS
