#!/bin/bash
# Discovery on a real (virtual) Ethernet LAN: two network namespaces joined by a veth pair on
# 10.211.0.0/24. The "meters" namespace holds one address per meter, each with a meter on TCP
# port 502: simulators that answer the discovery protocol on UDP 1111, one simulator with
# discovery off and a pymodbus server (a peer we did not write) that only speaks Modbus. The
# "edge" namespace runs `wattline-edge discover`:
#   1. broadcast only: every discovery-speaking meter, with its profile;
#   2. active scan only, of the interface's own subnet: every meter, the silent ones identified
#      through the profiles' rules;
#   3. continuous mode: a meter started later appears within a minute and vanishes when stopped.
# Needs root (namespaces) and iproute2; exits 77 (ctest SKIP) when not root.
# Usage: discovery_test.sh WATTLINE_SIM WATTLINE_EDGE SOURCE_DIR
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root to create network namespaces"
  exit 77
fi
SIM=$1
EDGE=$2
SRC=$3
PY=/usr/bin/python3
command -v ip >/dev/null || { echo "FAIL: iproute2 (ip) not installed"; exit 1; }

ID=$$
NS_EDGE="wl-edge-$ID"
NS_MET="wl-meters-$ID"
VE="wle$ID"
VM="wlm$ID"
NET=10.211.0
WORK=$(mktemp -d)
PIDS=()
SIM_PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  # Anything still running in our namespaces was started by this script.
  for ns in "$NS_EDGE" "$NS_MET"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  done
  ip netns del "$NS_EDGE" 2>/dev/null || true
  ip netns del "$NS_MET" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done
  exit 1
}

START=$(date +%s)
ip netns add "$NS_EDGE"
ip netns add "$NS_MET"
ip link add "$VE" type veth peer name "$VM"
ip link set "$VE" netns "$NS_EDGE"
ip link set "$VM" netns "$NS_MET"
ip -n "$NS_EDGE" addr add "$NET.1/24" broadcast "$NET.255" dev "$VE"
for h in 11 12 13 14 15 16 17; do
  ip -n "$NS_MET" addr add "$NET.$h/24" broadcast "$NET.255" dev "$VM"
done
for ns in "$NS_EDGE" "$NS_MET"; do
  ip -n "$ns" link set lo up
done
ip -n "$NS_EDGE" link set "$VE" up
ip -n "$NS_MET" link set "$VM" up

in_edge() { ip netns exec "$NS_EDGE" "$@"; }

# start_sim HOST TYPE DISCOVERY_PORT: one simulated meter on HOST:502. (`ip netns exec` execs
# the program, so $! is the simulator's own pid.)
start_sim() {
  ip netns exec "$NS_MET" "$SIM" --types "$2:1" --host "$NET.$1" --base_port 502 --discovery_port "$3" \
    --profiles_dir "$SRC/profiles" --seed "$1" >"$WORK/sim-$1.log" 2>&1 &
  PIDS+=($!)
  SIM_PIDS+=($!)
  LAST_PID=$!
}

wait_port() {  # HOST: until NET.HOST:502 accepts, from the edge namespace
  for _ in $(seq 100); do
    if in_edge "$PY" -c "import socket; socket.create_connection(('$NET.$1', 502), 0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  fail "nothing listens on $NET.$1:502"
}

start_sim 11 janitza-umg96rm-e 1111
start_sim 12 eastron-sdm630 1111
start_sim 13 abb-b23 1111
start_sim 14 carlo-gavazzi-em24 1111
start_sim 15 eastron-sdm120 0  # discovery off: only the scan can find it
ip netns exec "$NS_MET" "$PY" "$SRC/tests/netns/pymodbus_devid_peer.py" --host "$NET.16" --port 502 \
  --vendor Janitza --product "UMG 604-PRO" >"$WORK/pymodbus.log" 2>&1 &
PIDS+=($!)
for h in 11 12 13 14 15 16; do wait_port "$h"; done

# check FILE EXPECTATIONS...: every HOST=PROFILE[@MATCHED_BY] is in FILE (JSON lines) with that
# profile, and nothing else is.
check() {
  "$PY" - "$@" <<'PYEOF'
import json, sys
path, *expect = sys.argv[1:]
found = {}
for line in open(path):
    d = json.loads(line)
    found[d["host"]] = d
want = {}
for e in expect:
    host, rest = e.split("=")
    profile, _, how = rest.partition("@")
    want[host] = (profile, how)
bad = []
for host, (profile, how) in want.items():
    d = found.get(host)
    if d is None:
        bad.append(f"{host}: not found")
        continue
    if d["profile"] != profile:
        bad.append(f"{host}: profile {d['profile']}, want {profile}")
    if how and d["matched_by"] != how:
        bad.append(f"{host}: matched by {d['matched_by']}, want {how}")
    if d["port"] != 502 or d["unit_id"] != 1:
        bad.append(f"{host}: endpoint {d['port']}/{d['unit_id']}")
for host in found.keys() - want.keys():
    bad.append(f"{host}: unexpected {found[host]}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PYEOF
}

# 1. Broadcast: the query goes to the interface's broadcast address 10.211.0.255.
in_edge "$EDGE" discover --scan false --window_ms 1000 --profiles_dir "$SRC/profiles" \
  >"$WORK/broadcast.out" 2>"$WORK/broadcast.log" || fail "discover (broadcast) failed"
grep -q '"found_by":\["broadcast"\]' "$WORK/broadcast.out" || fail "no broadcast answers"
check "$WORK/broadcast.out" "$NET.11=janitza-umg96rm-e@announced" "$NET.12=eastron-sdm630@announced" \
  "$NET.13=abb-b23@announced" "$NET.14=carlo-gavazzi-em24@announced" ||
  fail "broadcast results: $(cat "$WORK/broadcast.out")"
echo "broadcast: $(wc -l <"$WORK/broadcast.out") meters"

# 2. Active scan of the interface's own subnet (253 hosts; no --subnet: found via getifaddrs).
T0=$(date +%s.%N)
in_edge "$EDGE" discover --broadcast false --timeout_ms 300 --rate 50 --parallel 16 \
  --profiles_dir "$SRC/profiles" >"$WORK/scan.out" 2>"$WORK/scan.log" ||
  fail "discover (scan) failed"
T1=$(date +%s.%N)
grep -q "scanned 253/253" "$WORK/scan.log" || fail "scan progress did not reach 253/253"
check "$WORK/scan.out" "$NET.11=janitza-umg96rm-e@device-id" "$NET.12=eastron-sdm630@registers" \
  "$NET.13=abb-b23@name" "$NET.14=carlo-gavazzi-em24@name" "$NET.15=eastron-sdm120@registers" \
  "$NET.16=janitza-umg604-pro@device-id" || fail "scan results: $(cat "$WORK/scan.out")"
SCAN_S=$("$PY" -c "print(f'{$T1 - $T0:.1f}')")
# 253 connects at <= 50/s cannot take less than 252/50 s.
"$PY" -c "import sys; sys.exit(0 if $T1 - $T0 >= 252 / 50 else 1)" || fail "scan faster than the rate limit: ${SCAN_S}s"
echo "scan: $(wc -l <"$WORK/scan.out") meters, 253 hosts in ${SCAN_S}s"

# 3. Continuous: broadcast every 2 s; a meter plugged in later must appear within a minute.
ip netns exec "$NS_EDGE" "$EDGE" discover --continuous --scan false --broadcast_interval_s 2 --window_ms 500 \
  --duration_s 45 --profiles_dir "$SRC/profiles" >"$WORK/continuous.out" 2>"$WORK/continuous.log" &
EDGE_PID=$!
PIDS+=($EDGE_PID)
for _ in $(seq 100); do
  [ "$(grep -c '"event":"new"' "$WORK/continuous.out" || true)" -ge 4 ] && break
  sleep 0.1
done
[ "$(grep -c '"event":"new"' "$WORK/continuous.out" || true)" -eq 4 ] || fail "continuous: first round"
PLUG=$(date +%s.%N)
start_sim 17 schneider-iem3255 1111
LATE_PID=$LAST_PID
for _ in $(seq 600); do
  grep -q "\"event\":\"new\",\"host\":\"$NET.17\"" "$WORK/continuous.out" && break
  sleep 0.1
done
grep -q "\"event\":\"new\",\"host\":\"$NET.17\",\"port\":502,\"unit_id\":1,\"profile\":\"schneider-iem3255\"" \
  "$WORK/continuous.out" || fail "continuous: the late meter did not appear within 60 s"
SEEN=$(date +%s.%N)
echo "continuous: late meter appeared after $("$PY" -c "print(f'{$SEEN - $PLUG:.1f}')")s"
kill "$LATE_PID"
RC=0
wait "$LATE_PID" || RC=$?
[ "$RC" -eq 0 ] || fail "the late simulator exited with $RC after SIGTERM"
for _ in $(seq 200); do
  grep -q "\"event\":\"vanished\",\"host\":\"$NET.17\"" "$WORK/continuous.out" && break
  sleep 0.1
done
grep -q "\"event\":\"vanished\",\"host\":\"$NET.17\"" "$WORK/continuous.out" ||
  fail "continuous: the stopped meter did not vanish"
[ "$(grep -c '"event":"vanished"' "$WORK/continuous.out")" -eq 1 ] || fail "continuous: others vanished"
echo "continuous: stopped meter vanished after $("$PY" -c "import time; print(f'{time.time() - $SEEN:.1f}')")s"
kill "$EDGE_PID"
RC=0
wait "$EDGE_PID" || RC=$?
[ "$RC" -eq 0 ] || fail "discover --continuous exited with $RC after SIGTERM"
# The simulators shut down cleanly (exit 0, no sanitizer report) on SIGTERM.
for p in "${SIM_PIDS[@]}"; do
  [ "$p" = "$LATE_PID" ] || kill "$p"
done
for p in "${SIM_PIDS[@]}"; do
  [ "$p" = "$LATE_PID" ] && continue
  RC=0
  wait "$p" || RC=$?
  [ "$RC" -eq 0 ] || fail "simulator $p exited with $RC after SIGTERM"
done

echo "PASS in $(( $(date +%s) - START ))s"
