#!/usr/bin/env bash
# Benchmarks the local store side by side with Node's better-sqlite3 and
# prints one markdown report (docs/benchmarks.md, "## Local store", explains
# the method). Takes several minutes; needs Go, a C compiler, Node 20 and npm.
#
#   backend/store/bench/run.sh            full sizes (1M-row tables)
#   BENCH_QUICK=1 backend/store/bench/run.sh   small sizes, to check it runs
#   BENCH_DIR=/path …                      where the databases go (default: a temp dir)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export GOFLAGS="${GOFLAGS:--mod=mod}"
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/outpost-bench.XXXXXX")
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

echo "== go-sqlcipher: driver level, store API, knobs" >&2
"$work/bench" run -dir "$work" -out "$work/go.json" "${quick[@]}"
echo "== go-sqlcipher built with -O3 -march=native" >&2
"$work/bench-o3" run -dir "$work" -suites driver-enc -label "(-O3 -march=native)" -out "$work/o3.json" "${quick[@]}"
echo "== better-sqlite3" >&2
node_quick=()
if [[ -n "${BENCH_QUICK:-}" ]]; then node_quick=(--quick); fi
node "$here/node/bench.mjs" "$work" "${node_quick[@]}" > "$work/node.json"

echo "## Local store benchmark — $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -sr), Go $(go env GOVERSION), Node $(node --version)"
echo
"$work/bench" report "$work/go.json" "$work/o3.json" "$work/node.json"
