#!/bin/sh
# mbpoll (a Modbus client we did not write) reads wattline-sim.
# Usage: mbpoll_sim_test.sh PATH/TO/wattline-sim
set -u
SIM="$1"
DIR=$(mktemp -d)
SIM_PID=""
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

"$SIM" --meters 1 --base_port 0 --meters_file "$DIR/meters.toml" --log_level warn &
SIM_PID=$!
i=0
while [ ! -s "$DIR/meters.toml" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "wattline-sim wrote no meters file"
  kill -0 "$SIM_PID" 2>/dev/null || fail "wattline-sim exited"
  sleep 0.1
done
PORT=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DIR/meters.toml" | head -n 1)
[ -n "$PORT" ] || fail "no port in meters file"

# -0: 0-based protocol addresses; -B: big-endian (ABCD) floats; -1: poll once.
read_float() {
  mbpoll -m tcp -p "$PORT" -a 1 -0 -r "$1" -c 1 -t 4:float -B -1 -o 2 127.0.0.1 |
    sed -n "s/^\[$1\]:[[:space:]]*\([-0-9.e+]*\).*/\1/p"
}
U=$(read_float 19000)
F=$(read_float 19050)
echo "voltage_l1_n=$U frequency=$F"
[ -n "$U" ] || fail "no voltage read"
[ -n "$F" ] || fail "no frequency read"
awk -v u="$U" 'BEGIN { exit !(u >= 200 && u <= 260) }' || fail "voltage $U outside 200..260"
awk -v f="$F" 'BEGIN { exit !(f >= 49.8 && f <= 50.2) }' || fail "frequency $F not about 50 Hz"
echo PASS
