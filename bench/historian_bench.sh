#!/usr/bin/env bash
# The historian benchmark of issue 5: our engine (wattline-historian-bench), PostgreSQL 15 and
# Prometheus 2.42 on the same meter data (../shared/bench/meterdata.py), in one run, with one
# table of every figure and the ratios the issue names. See docs/benchmarks.md ("Historian").
#
#   sudo bench/historian_bench.sh [--work DIR] [--bin PATH] [--port N] [--meters N] [--seconds N]
#                                 [--year_seconds N] [--month_days N] [--keep]
#
# Needs root: it installs postgresql, prometheus (for promtool) and python3 from Debian's
# packages when missing, and runs a private PostgreSQL cluster in the work folder as the
# `postgres` user. No other PostgreSQL is touched: every pg_ctl call names the private data
# folder, and the cluster is stopped at the end (also on errors).
#
# The data files stay in the work folder for reruns; the PostgreSQL cluster, the promtool
# blocks and the engine folders are removed at the end (--keep keeps them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
work=/tmp/wattline-hbench
bin=""
port=55432
meters=10
seconds=86400
keep=0
agg_signals=100
chart_points=2000
year_seconds=31536000  # the long chart query: one signal at 1 s for a year (0: skip)
month_days=30          # aggregates of agg_signals signals over this many days (0: skip)

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --meters) meters="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --year_seconds) year_seconds="$2"; shift 2 ;;
    --month_days) month_days="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
for n in "$port" "$meters" "$seconds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $n" >&2; exit 2; }
done
for n in "$year_seconds" "$month_days"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; exit 2; }
done
if [[ $(id -u) -ne 0 ]]; then
  echo "run as root: the script installs Debian packages and runs PostgreSQL as 'postgres'" >&2
  exit 2
fi

started=$(date +%s)
now() { date +%s.%N; }
log() { echo "== $(date +%T) $*" >&2; }

# --- Packages --------------------------------------------------------------------------------
missing=()
for pkg in postgresql prometheus python3; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing from Debian: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
pgbin=/usr/lib/postgresql/15/bin
[[ -x "$pgbin/initdb" ]] || { echo "PostgreSQL 15 not found in $pgbin" >&2; exit 1; }
command -v promtool > /dev/null || { echo "promtool not found (package prometheus)" >&2; exit 1; }
pg_version=$("$pgbin/postgres" --version | awk '{print $3}')
prom_version=$(promtool --version 2>&1 | awk 'NR == 1 {print $3}')

# --- Data ------------------------------------------------------------------------------------
meterdata="$repo/../shared/bench/meterdata.py"
mkdir -p "$work"
chmod 755 "$work"  # the postgres user reads the CSV and keeps its cluster in here
name="meterdata-${meters}x${seconds}"
csv="$work/$name.csv"
om="$work/$name.om"
pgcsv="$work/$name-pg.csv"
if [[ ! -s "$csv" ]]; then
  log "generating $csv"
  python3 "$meterdata" csv "$meters" "$seconds" 1 > "$csv.tmp" && mv "$csv.tmp" "$csv"
fi
if [[ ! -s "$om" ]]; then
  log "generating $om"
  python3 "$meterdata" openmetrics "$meters" "$seconds" 1 > "$om.tmp" && mv "$om.tmp" "$om"
fi
if [[ ! -s "$pgcsv" ]]; then
  # COPY reads timestamps as text: ts_ms becomes ISO 8601 in UTC here, before anything is timed
  # (our program's CSV parsing is not timed either).
  log "converting $csv for COPY"
  python3 - "$csv" > "$pgcsv.tmp" << 'EOF'
import datetime, sys
iso = {}
out = sys.stdout.write
with open(sys.argv[1]) as f:
    for line in f:
        sid, ts, value = line.rstrip('\n').split(',')
        t = iso.get(ts)
        if t is None:
            t = iso[ts] = datetime.datetime.fromtimestamp(
                int(ts) / 1000, datetime.timezone.utc).isoformat(timespec='milliseconds')
        out('%s,%s,%s\n' % (sid, t, value))
EOF
  mv "$pgcsv.tmp" "$pgcsv"
fi
samples=$(wc -l < "$csv")
first_ms=$(head -n 1 "$csv" | cut -d, -f2)
# meterdata.py writes one line per signal and second, in time order.
from_ts="to_timestamp(${first_ms} / 1000.0)"
to_ts="to_timestamp((${first_ms} + ${seconds} * 1000) / 1000.0)"

# --- Prometheus ------------------------------------------------------------------------------
blocks="$work/prometheus-blocks"
rm -rf "$blocks"
log "promtool tsdb create-blocks-from openmetrics ($prom_version)"
t0=$(now)
promtool tsdb create-blocks-from openmetrics "$om" "$blocks" > "$work/promtool.log" 2>&1
prom_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {print b - a}')
prom_bytes=$(du -sb "$blocks" | cut -f1)

# --- PostgreSQL ------------------------------------------------------------------------------
pg="$work/postgresql"
pgdata="$pg/data"
sock="$pg/sock"
pg_stop() {
  if [[ -f "$pgdata/postmaster.pid" ]]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop > /dev/null || true
  fi
}
trap pg_stop EXIT
pg_stop
rm -rf "$pg"
mkdir -p "$sock"
chown -R postgres: "$pg"
log "PostgreSQL $pg_version: private cluster in $pgdata, port $port, socket in $sock"
runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -A trust -U postgres -E UTF8 --locale=C \
  > "$pg/initdb.log"
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -l "$pg/server.log" -w \
  -o "-p $port -k $sock -c listen_addresses=''" start > /dev/null

psql_run() {
  runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -d postgres "$@"
}
# Server-side time of one statement in ms (psql's \timing), its output discarded.
psql_ms() {
  printf '\\timing on\n\\o /dev/null\n%s\n' "$1" | psql_run | awk '/^Time:/ {print $2}' | tail -n 1
}
median() { tr ' ' '\n' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
verdict() { awk "BEGIN {print ($1) ? \"met\" : \"MISSED\"}"; }

# double precision, not real: it holds the float32 values exactly, as our API's double does, and a
# real column saves nothing here (the row is padded to 8 bytes either way).
psql_run -c "CREATE TABLE samples (signal_id int NOT NULL, ts timestamptz NOT NULL,
                                   value double precision NOT NULL)"
log "COPY of $samples rows"
copy_ms=$(psql_ms "COPY samples FROM '$pgcsv' (FORMAT csv)")
log "index on (signal_id, ts)"
index_ms=$(psql_ms "CREATE INDEX samples_signal_ts ON samples (signal_id, ts)")
vacuum_ms=$(psql_ms "VACUUM ANALYZE samples")
rows=$(psql_run -At -c "SELECT count(*) FROM samples")
pg_bytes=$(psql_run -At -c "SELECT pg_total_relation_size('samples')")
# The row table as the issue describes it has its index on (signal_id, ts), and a table that
# takes live data keeps it: COPY into such a table is the ingest baseline. (COPY into the bare
# table above, the index built afterwards, is the faster way to load a table once.)
psql_run -c "CREATE TABLE samples_indexed (LIKE samples)"
psql_run -c "CREATE INDEX samples_indexed_signal_ts ON samples_indexed (signal_id, ts)"
log "COPY of $samples rows into a table with its index"
copy_indexed_ms=$(psql_ms "COPY samples_indexed FROM '$pgcsv' (FORMAT csv)")
indexed_rows=$(psql_run -At -c "SELECT count(*) FROM samples_indexed")
psql_run -c "DROP TABLE samples_indexed"

agg_sql="SELECT signal_id, date_bin('15 minutes', ts, TIMESTAMPTZ '2025-01-01 00:00:00+00') AS bucket,
  min(value), max(value), avg(value) FROM samples
  WHERE signal_id < $agg_signals AND ts >= $from_ts AND ts < $to_ts GROUP BY 1, 2"
pg_agg_rows=$(psql_run -At -c "SELECT count(*) FROM ($agg_sql) q")
log "15-minute aggregate, 3 runs"
agg_times=""
for _ in 1 2 3; do agg_times+="$(psql_ms "$agg_sql") "; done
pg_agg_ms=$(echo "$agg_times" | median)

# The chart: chart_points / 2 equal buckets over the signal's range, min and max of each, as
# DownsampleMinMax in our program does.
buckets=$((chart_points / 2))
stride_us=$((seconds * 1000000 / buckets))
chart_sql="SELECT date_bin(INTERVAL '$stride_us microseconds', ts, $from_ts) AS b,
  min(value), max(value) FROM samples
  WHERE signal_id = 0 AND ts >= $from_ts AND ts < $to_ts GROUP BY b ORDER BY b"
log "chart query, 5 runs"
chart_times=""
for _ in 1 2 3 4 5; do chart_times+="$(psql_ms "$chart_sql") "; done
pg_chart_ms=$(echo "$chart_times" | median)

# The long chart: signal 0's values repeated for year_seconds at 1 s, in time order (as COPY of
# a time-ordered file would store them), in a table of its own with the same index.
if [[ $year_seconds -gt 0 ]]; then
  reps=$(((year_seconds + seconds - 1) / seconds))
  log "long chart: $year_seconds s of signal 0 into year_samples"
  psql_run -c "CREATE TABLE year_samples (LIKE samples)"
  year_fill_ms=$(psql_ms "INSERT INTO year_samples SELECT 0, d.ts, d.value
    FROM generate_series(0, $((reps - 1))) k CROSS JOIN LATERAL (
      SELECT ts + k * INTERVAL '$seconds seconds' AS ts, value FROM samples
      WHERE signal_id = 0 ORDER BY ts) d
    WHERE d.ts < $from_ts + INTERVAL '$year_seconds seconds'")
  psql_run -c "CREATE INDEX year_samples_signal_ts ON year_samples (signal_id, ts)"
  psql_run -c "VACUUM ANALYZE year_samples"
  year_rows=$(psql_run -At -c "SELECT count(*) FROM year_samples")
  year_pg_bytes=$(psql_run -At -c "SELECT pg_total_relation_size('year_samples')")
  year_stride_us=$((year_seconds * 1000000 / buckets))
  year_sql="SELECT date_bin(INTERVAL '$year_stride_us microseconds', ts, $from_ts) AS b,
    min(value), max(value) FROM year_samples
    WHERE signal_id = 0 AND ts >= $from_ts AND ts < $from_ts + INTERVAL '$year_seconds seconds'
    GROUP BY b ORDER BY b"
  log "long chart query, 3 runs"
  year_times=""
  for _ in 1 2 3; do year_times+="$(psql_ms "$year_sql") "; done
  pg_year_ms=$(echo "$year_times" | median)
fi
# The month: the first agg_signals signals' day repeated month_days times, day after day (each
# INSERT in the file's time order), in a table of its own with the same index; then 15-minute,
# daily and monthly min/max/avg over all of it.
if [[ $month_days -gt 0 ]]; then
  log "month: $month_days days of $agg_signals signals into month_samples"
  psql_run -c "CREATE TABLE month_samples (LIKE samples)"
  month_fill_ms=0
  for ((k = 0; k < month_days; k++)); do
    ms=$(psql_ms "INSERT INTO month_samples SELECT signal_id,
      ts + $k * INTERVAL '$seconds seconds', value FROM samples WHERE signal_id < $agg_signals")
    month_fill_ms=$(calc %.3f "$month_fill_ms + $ms")
  done
  psql_run -c "CREATE INDEX month_samples_signal_ts ON month_samples (signal_id, ts)"
  psql_run -c "VACUUM ANALYZE month_samples"
  month_rows=$(psql_run -At -c "SELECT count(*) FROM month_samples")
  month_pg_bytes=$(psql_run -At -c "SELECT pg_total_relation_size('month_samples')")
  month_to="$from_ts + INTERVAL '$((month_days * seconds)) seconds'"
  declare -A month_pg_ms month_pg_rows
  for kind in minor day month; do
    case $kind in
      minor) bucket="date_bin('15 minutes', ts, TIMESTAMPTZ '2025-01-01 00:00:00+00')" ;;
      day) bucket="date_bin('1 day', ts, TIMESTAMPTZ '2025-01-01 00:00:00+00')" ;;
      month) bucket="date_trunc('month', ts, 'UTC')" ;;  # date_bin has no months
    esac
    sql="SELECT signal_id, $bucket AS bucket, min(value), max(value), avg(value)
      FROM month_samples WHERE signal_id < $agg_signals AND ts >= $from_ts AND ts < $month_to
      GROUP BY 1, 2"
    month_pg_rows[$kind]=$(psql_run -At -c "SELECT count(*) FROM ($sql) q")
    log "month: $kind aggregates, 3 runs"
    times=""
    for _ in 1 2 3; do times+="$(psql_ms "$sql") "; done
    month_pg_ms[$kind]=$(echo "$times" | median)
  done
fi
work_disk=$(du -sb "$work" | cut -f1)  # the peak: data, promtool blocks and the cluster
pg_stop
pg_disk=$(du -sb "$pg" | cut -f1)

# --- Our engine ------------------------------------------------------------------------------
if [[ -z "$bin" ]]; then
  log "building wattline-historian-bench (release preset)"
  (cd "$repo" && cmake --preset release > /dev/null &&
    cmake --build --preset release --target wattline-historian-bench > /dev/null)
  bin="$repo/build/release/bench/wattline-historian-bench"
fi
log "wattline-historian-bench"
keep_flag=false
[[ $keep -eq 1 ]] && keep_flag=true
"$bin" --csv "$csv" --dir "$work" --figures "$work/wattline.fig" --agg_signals "$agg_signals" \
  --chart_points "$chart_points" --year_seconds "$year_seconds" --month_days "$month_days" \
  --keep="$keep_flag" \
  --log_level=warn > "$work/wattline.md"
fig() { awk -v k="$1" '$1 == k {print $2}' "$work/wattline.fig"; }
if [[ $keep -eq 0 ]]; then rm -rf "$pg" "$blocks"; fi

# --- The table -------------------------------------------------------------------------------
[[ "$rows" -eq "$samples" && "$indexed_rows" -eq "$samples" && "$(fig samples)" -eq "$samples" ]] ||
  { echo "sample counts differ: CSV $samples, PostgreSQL $rows and $indexed_rows, ours $(fig samples)" >&2; exit 1; }
[[ "$pg_agg_rows" -eq "$(fig agg_buckets)" ]] ||
  { echo "15-minute buckets differ: PostgreSQL $pg_agg_rows, ours $(fig agg_buckets)" >&2; exit 1; }

bps_ours=$(fig bps_open)
bps_closed=$(fig bps_closed)
bps_prom=$(calc %.3f "$prom_bytes / $samples")
bps_pg=$(calc %.1f "$pg_bytes / $samples")
copy_sps=$(calc %.0f "$samples / ($copy_ms / 1000)")
copy_indexed_sps=$(calc %.0f "$samples / ($copy_indexed_ms / 1000)")
ours1=$(fig ingest1_sps)
ours2=$(fig ingest2_sps)
agg_ours=$(fig agg_ms)
chart_ours=$(fig chart_ms)
r_bps=$(calc %.2f "$bps_ours / $bps_prom")
r_bps_closed=$(calc %.2f "$bps_closed / $bps_prom")
r_in1=$(calc %.1f "$ours1 / $copy_indexed_sps")
r_in2=$(calc %.1f "$ours2 / $copy_indexed_sps")
r_in1_bare=$(calc %.1f "$ours1 / $copy_sps")
r_in2_bare=$(calc %.1f "$ours2 / $copy_sps")
r_agg=$(calc %.3f "$agg_ours / $pg_agg_ms")
r_chart=$(calc %.3f "$chart_ours / $pg_chart_ms")
r_agg_rollup=$(calc %.4f "$(fig agg_rollup_ms) / $pg_agg_ms")
r_chart_engine=$(calc %.3f "$(fig chart_engine_ms) / $pg_chart_ms")
load=$(cut -d' ' -f1 /proc/loadavg)

cat << EOF
## Historian benchmark (bench/historian_bench.sh)

Data: meterdata.py csv/openmetrics $meters $seconds 1 ($samples samples, float32 values).
Wattline $(sed -n 's/.*build type \([A-Za-z]*\).*/\1/p' "$work/wattline.md" | head -n 1) build;
PostgreSQL $pg_version (initdb defaults, one row per sample, double precision, index on
(signal_id, ts)); Prometheus promtool $prom_version. $(nproc) CPUs, load average $load at the end.

| Measure | Wattline | PostgreSQL | Prometheus | Ratio | Target |
|---|---|---|---|---|---|
| Bytes/sample on disk, everything (ours: engine folder after checkpoint; PostgreSQL: pg_total_relation_size; Prometheus: block folder) | $bps_ours | $bps_pg | $bps_prom | $r_bps x Prometheus | <= 0.7x ($(verdict "$r_bps <= 0.7")) |
| Bytes/sample, ours after close (SQLite -wal folded in) | $bps_closed | | | $r_bps_closed x Prometheus | |
| Durable ingest, samples/s: ours 1 thread, $(fig batch)-sample fsynced Appends; PostgreSQL COPY into the row table with its index on (signal_id, ts) (one transaction) | $ours1 | $copy_indexed_sps | | ${r_in1}x COPY | >= 10x ($(verdict "$r_in1 >= 10")) and >= 1,000,000/s ($(verdict "$ours1 >= 1000000")) |
| Durable ingest, samples/s: ours $(fig ingest_threads) threads on disjoint signals (group commit: the threads share fsyncs) | $ours2 | | | ${r_in2}x COPY | >= 10x ($(verdict "$r_in2 >= 10")) and >= 1,000,000/s ($(verdict "$ours2 >= 1000000")) |
| Same two, against COPY into the bare table (no index; the index built afterwards, as for a one-off load) | $ours1 / $ours2 | $copy_sps | | ${r_in1_bare}x / ${r_in2_bare}x bare COPY | |
| Load time, s: ours ingest + checkpoint; PostgreSQL COPY + index + VACUUM ANALYZE; promtool create-blocks-from | $(calc %.1f "$(fig ingest1_s) + $(fig checkpoint_s)") | $(calc %.1f "($copy_ms + $index_ms + $vacuum_ms) / 1000") (COPY $(calc %.1f "$copy_ms / 1000"), index $(calc %.1f "$index_ms / 1000"), vacuum $(calc %.1f "$vacuum_ms / 1000")) | $(calc %.1f "$prom_s") | | |
| 15-min min/max/avg, $(fig agg_signals) signals, $seconds s ($(fig agg_buckets) buckets), ms, median of 3: ours Engine::Aggregates from the stored rollups (time-weighted mean); PostgreSQL date_bin | $(fig agg_rollup_ms) | $pg_agg_ms | | $r_agg_rollup x | <= 0.01x ($(verdict "$r_agg_rollup <= 0.01")) |
| Same, ours on the raw path (Range + arithmetic mean per bucket) | $agg_ours | | | $r_agg x | |
| Chart query, 1 signal over $seconds s, $buckets min/max buckets ($chart_points points), ms, median of 5: ours Engine::Chart (raw samples: buckets under 2 minor intervals) | $(fig chart_engine_ms) | $pg_chart_ms | | $r_chart_engine x | <= 0.01x ($(verdict "$r_chart_engine <= 0.01")) |
| Same, ours Range + DownsampleMinMax | $chart_ours | | | $r_chart x | |
EOF
if [[ $year_seconds -gt 0 ]]; then
  [[ "$year_rows" -eq "$year_seconds" ]] ||
    { echo "long chart: PostgreSQL holds $year_rows rows, expected $year_seconds" >&2; exit 1; }
  r_year=$(calc %.3f "$(fig year_chart_ms) / $pg_year_ms")
  r_year_engine=$(calc %.4f "$(fig year_engine_chart_ms) / $pg_year_ms")
  cat << EOF
| Long chart: 1 signal at 1 s for $year_seconds s (signal 0's values repeated), bytes/sample on disk (PostgreSQL: table and index) | $(fig year_bps) | $(calc %.1f "$year_pg_bytes / $year_rows") | | | |
| Long chart: load, samples/s (ours: durable ingest incl. checkpoint; PostgreSQL: INSERT ... SELECT from the day, no index) | $(fig year_ingest_sps) | $(calc %.0f "$year_rows / ($year_fill_ms / 1000)") | | | |
| Long chart query, 1 signal over $year_seconds s ($year_seconds samples), $buckets min/max buckets, ms, median of 3: ours Engine::Chart (from the stored rollups) | $(fig year_engine_chart_ms) | $pg_year_ms | | $r_year_engine x | <= 0.01x ($(verdict "$r_year_engine <= 0.01")) |
| Same, ours Range + DownsampleMinMax over all samples | $(fig year_chart_ms) | | | $r_year x | |
EOF
fi
if [[ $month_days -gt 0 ]]; then
  [[ "$month_rows" -eq "$(fig month_samples)" ]] ||
    { echo "month: PostgreSQL holds $month_rows rows, ours $(fig month_samples)" >&2; exit 1; }
  echo "| $month_days days of $agg_signals signals ($month_rows samples, the day repeated), bytes/sample on disk (PostgreSQL: table and index) | $(fig month_bps) | $(calc %.1f "$month_pg_bytes / $month_rows") | | | |"
  for kind in minor day month; do
    [[ "${month_pg_rows[$kind]}" -eq "$(fig "month_${kind}_rows")" ]] || {
      echo "month: $kind rows differ: PostgreSQL ${month_pg_rows[$kind]}, ours $(fig "month_${kind}_rows")" >&2
      exit 1
    }
    r=$(calc %.4f "$(fig "month_${kind}_ms") / ${month_pg_ms[$kind]}")
    case $kind in
      minor) label="15-minute"; how="date_bin" ;;
      day) label="Daily"; how="date_bin" ;;
      month) label="Monthly"; how="date_trunc" ;;
    esac
    echo "| $label min/max/avg of $agg_signals signals over $month_days days (${month_pg_rows[$kind]} rows), ms, median of 3: ours Engine::Aggregates; PostgreSQL $how | $(fig "month_${kind}_ms") | ${month_pg_ms[$kind]} | | $r x | <= 0.01x ($(verdict "$r <= 0.01")) |"
  done
fi
cat << EOF

Work folder $work: $(calc %.1f "$work_disk / 1e9") GB at the peak (PostgreSQL cluster
$(calc %.1f "$pg_disk / 1e9") GB); the script ran $(($(date +%s) - started)) s.

### wattline-historian-bench output

EOF
cat "$work/wattline.md"
