#!/usr/bin/env bash
# Benchmark of `polc sql`: N rows (default 1,000,000) of the 20-column benchmark source
# (scripts/bench_sql/customers.pol, the policy of compiler/benches/runtime.rs) selected through
# the masked view by a role, against a plain select of the base table, interleaved, R rounds
# (default 5); prints each round and the medians.
#
#   scripts/bench_sql.sh [ROWS] [ROUNDS]
#
# Three measures per query: the server's execution time (EXPLAIN ANALYZE, every output column
# computed, nothing sent), the end-to-end time of `\copy (SELECT …) TO /dev/null` through psql,
# and the CPU time that copy costs the server backend and psql together (utime + stime from
# /proc, 10 ms ticks; on a machine shared with other work, wall times measure the scheduler as
# much as the query, CPU times much less).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
ROUNDS="${2:-5}"

BIN="$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
cargo build -q -p pol-compiler --bin polc
POLC=target/debug/polc

DIR="$(mktemp -d /tmp/pol-bench-sql.XXXXXX)"
AS=()
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; AS=(runuser -u postgres --); fi
cleanup() { "${AS[@]}" "$BIN/pg_ctl" stop -m immediate -D "$DIR/data" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 -A trust --no-sync >/dev/null
"${AS[@]}" "$BIN/pg_ctl" start -w -D "$DIR/data" -l "$DIR/log" \
  -o "-k $DIR -c listen_addresses='' -c shared_buffers=512MB -c jit=off" >/dev/null
PSQL=("$BIN/psql" -X -q -h "$DIR" -U postgres -d postgres -v ON_ERROR_STOP=1)

head -c 32 /dev/urandom > "$DIR/key"
$POLC sql scripts/bench_sql --dialect postgres --emit tables -o "$DIR/tables.sql"
$POLC sql scripts/bench_sql --dialect postgres --key-file "$DIR/key" -o "$DIR/pol.sql"
"${PSQL[@]}" -f "$DIR/tables.sql" -f "$DIR/pol.sql"
"${PSQL[@]}" <<SQL
INSERT INTO customers
SELECT i, 'user' || i || '@example.com', '555-01' || lpad((i % 10000)::text, 4, '0'),
       lpad((i % 1000)::text, 3, '0') || '-45-' || lpad((i % 10000)::text, 4, '0'),
       'First' || i, 'Last' || i, DATE '1950-01-01' + (i % 20000),
       i || ' Main Street', lpad((i % 100000)::text, 5, '0'),
       CASE WHEN i % 3 = 0 THEN 'US' WHEN i % 3 = 1 THEN 'FR' ELSE 'DE' END, 'City' || (i % 100),
       'a', 'active', 'consumer', 30000 + (i % 90000) * 1.5, (i % 100000) - 5000.25, 300 + i % 550,
       TIMESTAMPTZ '2025-01-01' + i * interval '1 second', 'note ' || i
FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE customers;
CREATE ROLE bench;
INSERT INTO pol.subjects VALUES ('bench', '{"login": "bench", "roles": ["support"], "team": "a"}');
SQL

exec_ms() { # role query → execution time of EXPLAIN ANALYZE, in ms
  "${PSQL[@]}" -At -c "SET ROLE $1; EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $2" \
    | python3 -c 'import json,sys; print(round(json.load(sys.stdin)[0]["Execution Time"]))'
}
copy_ms() { # role query → wall time of \copy to /dev/null, in ms
  local t0 t1
  t0=$(date +%s%N)
  "${PSQL[@]}" -c "SET ROLE $1" -c "\\copy ($2) TO /dev/null"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
cpu_ms() { # role query → CPU ms of the backend + psql for \copy (query) TO /dev/null
  "${PSQL[@]}" -At <<CPU | paste -sd' ' | awk '{print ($3 + $4 - $1 - $2) * 10}'
SELECT pg_backend_pid() AS pid \\gset
\\setenv PID :pid
SET ROLE $1;
\\! awk '{print \$14 + \$15}' /proc/\$PID/stat; awk '{print \$14 + \$15}' /proc/\$PPID/stat
\\copy ($2) TO /dev/null
\\! awk '{print \$14 + \$15}' /proc/\$PID/stat; awk '{print \$14 + \$15}' /proc/\$PPID/stat
CPU
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "rows: $ROWS, rounds: $ROUNDS (interleaved)"
: > "$DIR/base_exec"; : > "$DIR/view_exec"; : > "$DIR/base_copy"; : > "$DIR/view_copy"
: > "$DIR/base_cpu"; : > "$DIR/view_cpu"
for r in $(seq "$ROUNDS"); do
  b=$(exec_ms postgres "SELECT * FROM public.customers"); echo "$b" >> "$DIR/base_exec"
  v=$(exec_ms bench "SELECT * FROM pol.customers"); echo "$v" >> "$DIR/view_exec"
  bc=$(copy_ms postgres "SELECT * FROM public.customers"); echo "$bc" >> "$DIR/base_copy"
  vc=$(copy_ms bench "SELECT * FROM pol.customers"); echo "$vc" >> "$DIR/view_copy"
  bu=$(cpu_ms postgres "SELECT * FROM public.customers"); echo "$bu" >> "$DIR/base_cpu"
  vu=$(cpu_ms bench "SELECT * FROM pol.customers"); echo "$vu" >> "$DIR/view_cpu"
  echo "round $r: execution base ${b} ms, view ${v} ms; copy base ${bc} ms, view ${vc} ms;" \
    "copy CPU base ${bu} ms, view ${vu} ms (ratio $(python3 -c "print(round($vu/$bu, 2))"))"
done
B=$(median < "$DIR/base_exec"); V=$(median < "$DIR/view_exec")
BC=$(median < "$DIR/base_copy"); VC=$(median < "$DIR/view_copy")
echo "median execution: base $B ms, view $V ms, ratio $(python3 -c "print(round($V/$B, 2))")"
echo "median copy:      base $BC ms, view $VC ms, ratio $(python3 -c "print(round($VC/$BC, 2))")"
BU=$(median < "$DIR/base_cpu"); VU=$(median < "$DIR/view_cpu")
echo "median copy CPU:  base $BU ms, view $VU ms, ratio $(python3 -c "print(round($VU/$BU, 2))")"
