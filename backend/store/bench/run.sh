#!/usr/bin/env bash
# Benchmarks the local store side by side with Node's better-sqlite3 and
# prints one markdown report (docs/benchmarks.md, "## Local store", explains
# the method). Takes several minutes; needs Go, a C compiler, Node 20 and npm.
#
#   backend/store/bench/run.sh            full sizes (1M-row tables)
#   BENCH_QUICK=1 backend/store/bench/run.sh   small sizes, to check it runs
#   BENCH_DIR=/path …                      where the databases go (default: a temp dir)
#   BENCH_REPEAT=N …                       rounds of the side-by-side suites (default 2)
#   BENCH_RESULTS=dir …                    keep the JSON results there; the report then also
#                                          merges results already in dir (fastest wins), so
#                                          runs made at different times add up
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export GOFLAGS="${GOFLAGS:--mod=mod}"
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/outpost-store-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

quick=()
if [[ -n "${BENCH_QUICK:-}" ]]; then quick=(-quick); fi

echo "== building (the first build of a new CGO_CFLAGS recompiles SQLCipher: a minute or two)" >&2
(cd "$root" && go build -o "$work/bench" ./backend/store/bench)
# The same program with the bundled C (SQLCipher, libtomcrypt) compiled for
# this CPU: what compiler flags buy. go's default CGO_CFLAGS is "-O2 -g".
(cd "$root" && CGO_CFLAGS="-O3 -march=native" go build -o "$work/bench-o3" ./backend/store/bench)

if [[ ! -d "$here/node/node_modules/better-sqlite3" ]]; then
  echo "== npm ci (better-sqlite3 12)" >&2
  (cd "$here/node" && npm ci --no-audit --no-fund >&2)
fi

node_quick=()
if [[ -n "${BENCH_QUICK:-}" ]]; then node_quick=(--quick); fi

# The side-by-side suites run BENCH_REPEAT times, interleaved, and the report
# keeps each operation's fastest run: on a shared machine other load only
# ever adds time, and interleaving gives every system the same chances.
repeat="${BENCH_REPEAT:-2}"
for i in $(seq 1 "$repeat"); do
  echo "== round $i/$repeat: go-sqlcipher encrypted and unencrypted (seed schema)" >&2
  "$work/bench" run -dir "$work" -suites driver -out "$work/driver-$i.json" "${quick[@]}"
  echo "== round $i/$repeat: go-sqlcipher encrypted, built with -O3 -march=native" >&2
  "$work/bench-o3" run -dir "$work" -suites driver-enc -label "(-O3 -march=native)" -out "$work/o3-$i.json" "${quick[@]}"
  echo "== round $i/$repeat: better-sqlite3" >&2
  node "$here/node/bench.mjs" "$work" "${node_quick[@]}" > "$work/node-$i.json"
done
echo "== the store's API, encrypted and unencrypted; knobs" >&2
"$work/bench" run -dir "$work" -suites store,knobs -out "$work/store.json" "${quick[@]}"

results=("$work"/driver-*.json "$work"/o3-*.json "$work"/node-*.json "$work/store.json")
if [[ -n "${BENCH_RESULTS:-}" ]]; then
  mkdir -p "$BENCH_RESULTS"
  stamp=$(date -u +%Y%m%dT%H%M%S)
  for f in "${results[@]}"; do cp "$f" "$BENCH_RESULTS/$stamp-$(basename "$f")"; done
  results=("$BENCH_RESULTS"/*.json)
fi
echo "## Local store benchmark — $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -sr), Go $(go env GOVERSION), Node $(node --version), fastest of ${#results[@]} result files"
echo
"$work/bench" report "${results[@]}"
