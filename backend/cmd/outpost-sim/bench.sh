#!/usr/bin/env bash
# bench.sh: the sync client benchmark (make bench). Builds outpost-server and
# outpost-sim side by side, then
#   1. outpost-sim bench: initial sync of ROWS production records (default 1M)
#      from the server to a fresh device over loopback vs a raw insert of the
#      same rows into the same kind of store, and the push of PUSH pending rows
#      (default 100k); gzip on both ways, as in production;
#   2. the large simulator run: 50 devices, 20000 edits, half the time offline.
# Each prints its JSON summary line; docs/benchmarks.md records them by hand.
# The soak run of the fault tests: go test -tags soak ./backend/cmd/outpost-sim
set -euo pipefail
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/outpost-server" ./backend/cmd/outpost-server
go build -o "$tmp/outpost-sim" ./backend/cmd/outpost-sim
echo "== outpost-sim bench (rows=${ROWS:-1000000}, push=${PUSH:-100000}, gzip on)"
"$tmp/outpost-sim" bench --rows "${ROWS:-1000000}" --push "${PUSH:-100000}"
echo "== outpost-sim --devices 50 --edits 20000 --offline-ratio 0.5"
/usr/bin/env time -v "$tmp/outpost-sim" --devices 50 --edits 20000 --offline-ratio 0.5 --seed 5 2> >(grep -E "outpost-sim:|Maximum resident|Elapsed" >&2)
