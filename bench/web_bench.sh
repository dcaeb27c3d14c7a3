#!/usr/bin/env bash
# The web benchmark of issue 6: wattline-server's latest-value API under wrk next to nginx
# serving the same JSON as a static file, and the delay of live values to 1,000 WebSocket
# clients. Prints one markdown table. See docs/benchmarks.md ("Web benchmark").
#
#   bash bench/web_bench.sh [--bin DIR] [--threads N] [--connections N] [--duration S]
#                           [--clients N] [--seconds N] [--quick] [--keep]
#
# --bin is the release build folder (default build/release: `cmake --preset release &&
# cmake --build --preset release`). wrk and nginx (nginx-light) are installed from Debian when
# missing (that needs root). Everything runs on 127.0.0.1 from a temporary folder: the server
# with a fresh data folder and a [[connector]] token, nginx from its own configuration with its
# own pid, log and temp paths. Every process started here is stopped by its PID at the end.
# --quick: a smoke run of ~30 s (3 s of wrk, 50 clients for 5 s); --keep keeps the folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
bin="$repo/build/release"
threads=2
connections=32
duration=15
clients=1000
seconds=60
keep=0

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --quick) duration=3; clients=50; seconds=5; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
for n in "$threads" "$connections" "$duration" "$clients" "$seconds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $n" >&2; exit 2; }
done
server_bin="$bin/apps/wattline-server"
client_bin="$bin/bench/wattline-web-bench"
for b in "$server_bin" "$client_bin"; do
  [[ -x "$b" ]] || { echo "$b not found: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done

log() { echo "== $(date +%T) $*" >&2; }

# --- Packages --------------------------------------------------------------------------------
missing=()
command -v wrk > /dev/null || missing+=(wrk)
[[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing ${missing[*]}: run as root once (it installs them from Debian)" >&2
    exit 2
  fi
  log "installing from Debian: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
nginx_version=$(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///')
wrk_version=$(wrk --version 2>&1 | head -1 | awk '{print $2}' || true)

# --- Processes, stopped by PID at the end ----------------------------------------------------
work=$(mktemp -d /tmp/wattline-webbench.XXXXXX)
chmod 755 "$work"  # nginx's worker (an unprivileged user under root) reads www/ and tmp/
server_pid=""
feed_pid=""
nginx_pid=""
stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2> /dev/null && kill -KILL "$pid" 2> /dev/null || true
  fi
  wait "$pid" 2> /dev/null || true
}
cleanup() {
  stop_pid "$feed_pid"
  stop_pid "$nginx_pid"
  stop_pid "$server_pid"
  if [[ $keep -eq 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- wattline-server --------------------------------------------------------------------------
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat > "$work/server.toml" << EOF
[[connector]]
name = "bench-1"
token = "$token"
site = "Bench site"
EOF
log "starting wattline-server (release build) on 127.0.0.1"
"$server_bin" --config "$work/server.toml" --listen 127.0.0.1:0 --data_dir "$work/data" \
  --port_file "$work/server.port" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do [[ -s "$work/server.port" ]] && break; sleep 0.1; done
[[ -s "$work/server.port" ]] || { echo "the server did not start:" >&2; tail "$work/server.log" >&2; exit 1; }
port=$(cat "$work/server.port")
cert="$work/data/tls/server.crt"
key="$work/data/tls/server.key"
common=(--port "$port" --cert "$cert" --log_level warn)

cookie=$("$client_bin" login "${common[@]}" --password_file "$work/data/initial-admin-password")
log "feeding 1,000 signals (20 meters x 50) every second"
"$client_bin" feed "${common[@]}" --token "$token" --seconds 0 > "$work/feed.log" 2>&1 &
feed_pid=$!
sleep 3
kill -0 "$feed_pid" 2> /dev/null || { echo "the feeder stopped:" >&2; cat "$work/feed.log" >&2; exit 1; }

mkdir -p "$work/www" "$work/nginx-tmp"
"$client_bin" get "${common[@]}" --cookie "$cookie" --path /api/v1/latest --out "$work/www/latest.json"
chmod 644 "$work/www/latest.json"
values=$(grep -o '"signal_id"' "$work/www/latest.json" | wc -l)
bytes=$(stat -c %s "$work/www/latest.json")
[[ "$values" -eq 1000 ]] || { echo "GET /api/v1/latest has $values values, expected 1000" >&2; exit 1; }

# --- nginx: the same JSON as a static file, same certificate ---------------------------------
nginx_port=$(free_port)
cat > "$work/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  types { application/json json; }
  keepalive_timeout 65;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/www;
  }
}
EOF
/usr/sbin/nginx -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  curl -sk -o /dev/null "https://127.0.0.1:$nginx_port/latest.json" 2> /dev/null && break
  sleep 0.1
done

# wrk prints "Requests/sec: N"; any non-2xx answer makes the figure worthless.
run_wrk() {
  local url="$1" out="$2"
  shift 2
  wrk -t"$threads" -c"$connections" -d"${duration}s" "$@" "$url" > "$out" 2>&1 || {
    cat "$out" >&2
    exit 1
  }
  if grep -q "Non-2xx" "$out"; then
    echo "wrk got error answers from $url:" >&2
    cat "$out" >&2
    exit 1
  fi
  awk '/^Requests\/sec:/ {print $2}' "$out"
}
log "wrk: ${threads} threads, ${connections} connections, ${duration} s against wattline-server"
ours=$(run_wrk "https://127.0.0.1:$port/api/v1/latest" "$work/wrk-wattline.txt" -H "Cookie: $cookie")
log "wrk: same against nginx $nginx_version"
theirs=$(run_wrk "https://127.0.0.1:$nginx_port/latest.json" "$work/wrk-nginx.txt")
stop_pid "$nginx_pid"
nginx_pid=""
stop_pid "$feed_pid"
feed_pid=""

ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.5) ? "met" : "MISSED"}')

log "WebSocket: $clients clients, $seconds s at 1 Hz"
status=0
"$client_bin" live "${common[@]}" --token "$token" --cookie "$cookie" --clients "$clients" \
  --seconds "$seconds" > "$work/live.md" 2> "$work/live.log" || status=$?
if [[ ! -s "$work/live.md" ]]; then
  echo "the WebSocket measurement failed:" >&2
  tail -20 "$work/live.log" >&2
  exit 1
fi

echo
echo "Web benchmark, $(date -u +%Y-%m-%d), commit $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo unknown), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| Figure | Value | Target | Verdict |"
echo "|---|---|---|---|"
printf "| GET /api/v1/latest, wattline-server (%d values, %d bytes), wrk %s -t%d -c%d -d%ds | %.0f req/s | | |\n" \
  "$values" "$bytes" "$wrk_version" "$threads" "$connections" "$duration" "$ours"
printf "| Same JSON as a static file, nginx %s (1 worker, HTTPS, same certificate) | %.0f req/s | | |\n" \
  "$nginx_version" "$theirs"
printf "| wattline-server / nginx | %sx | >= 0.5x | %s |\n" "$ratio" "$verdict"
cat "$work/live.md"
[[ "$verdict" == "met" && $status -eq 0 ]]
