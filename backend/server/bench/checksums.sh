#!/usr/bin/env bash
# checksums.sh: the benchmarks of verified convergence (issue 16, docs/design.md
# section 8; make bench runs it under .ci/postgres with PG_DURABLE=1, and
# docs/benchmarks.md, "Verified convergence", records its output):
#   1. push throughput with the checksums kept vs skipped
#      (BenchmarkChecksums_Push), on SQLite and, when OUTPOST_TEST_PG is set,
#      on PostgreSQL: ROUNDS rounds (default 8), each on fresh databases, of
#      BATCHES pairs of batches of 100 rows (default 100), the two variants
#      side by side batch by batch, alternating which goes first. The table
#      gives the median of the rounds and their spread;
#   2. the bytes the checksums add to a sync round
#      (BenchmarkChecksums_BytesPerRound) and the engine's hashing per row;
#   3. repair of 100 drifted rows in a device of REPAIR_ROWS production
#      records (default 1000000) vs a full re-pull of the same device
#      (BenchmarkRepair in backend/syncclient: a real outpost-server, a real
#      SQLCipher device store). REPAIR_ROWS=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$(pwd)
rounds=${ROUNDS:-8}
batches=${BATCHES:-100}
repair_rows=${REPAIR_ROWS:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== building the benchmarks" >&2
go test -c -o "$tmp/server.test" ./backend/server
go test -c -o "$tmp/syncclient.test" ./backend/syncclient
go build -o "$tmp/outpost-server" ./backend/cmd/outpost-server

stores=sqlite
if [[ -n "${OUTPOST_TEST_PG:-}" ]]; then stores="sqlite postgres"; fi
storere=$(echo "$stores" | tr ' ' '|')
for r in $(seq 1 "$rounds"); do
  echo "== push, round $r/$rounds: $stores, sums kept and skipped batch by batch" >&2
  (cd "$root/backend/server" && "$tmp/server.test" -test.run '^$' \
    -test.bench "^BenchmarkChecksums_Push\$/^($storere)\$/" -test.benchtime "${batches}x") |
    grep '^BenchmarkChecksums_Push/' | tee -a "$tmp/push.txt" >&2
done

# One "store workload metric value" line per metric of a run.
awk '{ n = $1; sub(/-[0-9]+$/, "", n); split(n, p, "/")
       for (i = 2; i < NF; i++) if ($(i + 1) ~ /^(kept-rows\/s|skipped-rows\/s|cost-%|total-cost-%)$/) print p[2], p[3], $(i + 1), $i }' "$tmp/push.txt" >"$tmp/push.tsv"
# summ KEY: "median min max" of one store, workload and metric over the rounds.
summ() {
  grep -F "$1 " "$tmp/push.tsv" | awk '{ print $4 }' | sort -g |
    awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}
echo "## Verified convergence — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), Go $(go env GOVERSION), $(git rev-parse --short HEAD)"
echo
echo "### Push throughput, checksums kept vs skipped ($rounds rounds × $batches pairs of batches of 100 rows)"
echo
echo "| store | workload | kept rows/s (median of rounds) | skipped rows/s | cost of the sums: median of rounds (min … max) | cost from the rounds' totals: median (min … max) |"
echo "| --- | --- | --- | --- | --- | --- |"
for s in $stores; do
  for w in insert100 update100; do
    read -r kr _ _ < <(summ "$s $w kept-rows/s")
    read -r sr _ _ < <(summ "$s $w skipped-rows/s")
    read -r cm cl ch < <(summ "$s $w cost-%")
    read -r tm tl th < <(summ "$s $w total-cost-%")
    printf '| %s | %s | %.0f | %.0f | %+.1f%% (%+.1f … %+.1f) | %+.1f%% (%+.1f … %+.1f) |\n' "$s" "$w" "$kr" "$sr" "$cm" "$cl" "$ch" "$tm" "$tl" "$th"
  done
done
echo
echo "Cost = time of a batch with the sums ÷ without − 1; per round, the median over its pairs of batches (each pair run back to back, alternating which goes first); target ≤ +5%."
echo

echo "== checksums per sync round; hashing per row" >&2
(cd "$root/backend/server" && "$tmp/server.test" -test.run '^$' \
  -test.bench '^BenchmarkChecksums_(BytesPerRound|HashPerRow)$' -test.benchtime 1s) | grep '^Benchmark' >"$tmp/bytes.txt"
echo "### Checksums per sync round (6 tables of 1M live rows)"
echo
awk '/BytesPerRound/ { for (i = 2; i < NF; i++) { if ($(i + 1) == "bytes/round") b = $i; if ($(i + 1) == "gzip-bytes/round") z = $i } }
     /HashPerRow/ { for (i = 2; i < NF; i++) if ($(i + 1) == "ns/op") h = $i }
     END { printf "| plain | gzip | engine hashing per row written (2 hashes + bucket) |\n| --- | --- | --- |\n| %s B | %s B | %s ns |\n", b, z, h }' "$tmp/bytes.txt"
echo

if [[ "$repair_rows" != 0 ]]; then
  echo "== repair of 100 drifted rows vs a full re-pull, $repair_rows rows (building the device takes minutes)" >&2
  (cd "$root/backend/syncclient" && OUTPOST_SERVER_BIN="$tmp/outpost-server" REPAIR_ROWS="$repair_rows" \
    /usr/bin/env time -f '%e s wall, %M KiB peak RSS' "$tmp/syncclient.test" -test.run '^$' \
    -test.bench '^BenchmarkRepair$' -test.benchtime 1x -test.timeout 3h) | tee "$tmp/repair.txt" >&2
  echo "### Repair of 100 drifted rows vs a full re-pull ($repair_rows production records over 90 days)"
  echo
  echo "| sync | seconds | bytes received | bytes sent | buckets listed | rows pulled or applied by repair |"
  echo "| --- | --- | --- | --- | --- | --- |"
  awk '/^BenchmarkRepair\// { n = $1; sub(/-[0-9]+$/, "", n); sub(/^BenchmarkRepair\//, "", n)
         for (i = 2; i < NF; i++) m[$(i + 1)] = $i
         printf "| %s | %.2f | %d | %d | %d | %d |\n", n, m["s"], m["recv-bytes"], m["sent-bytes"], m["buckets"], m["rows"] }' "$tmp/repair.txt"
  echo
fi
