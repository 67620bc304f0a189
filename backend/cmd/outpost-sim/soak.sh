#!/usr/bin/env bash
# soak.sh: the nemesis campaign (make soak; issue 15). Builds outpost-server
# and outpost-sim side by side, then runs one nemesis run per seed of SEEDS
# (default 1-1000) until the range or MINUTES (default 60) ends: SQLite,
# PostgreSQL and two server instances on one PostgreSQL (the cluster
# .ci/postgres starts; without it SQLite only), 2–20 devices, a seeded fault
# schedule each. A share of the seeds (HUB_SHARE, default 0.3) runs with one
# or two site hubs (issue 19: each hub's link to central cut, for minutes in
# the long runs of a campaign of 30 minutes or more, while its LAN stays up;
# hubs killed); each line says "hubs". One JSON line per run, then the
# closing summary, on stdout
# and in build/test-artifacts/soak/<commit>-seeds-<range>.jsonl, so that
# ranges run in several sessions on one commit add up. Exit status 1 if any
# run failed; a failing line carries the command that replays it.
#
#   make soak                     # seeds 1-1000, at most 60 minutes
#   make soak SEEDS=1001-1400     # another range
#   HUB_SHARE=0 make soak         # no hub topologies
set -euo pipefail
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/outpost-server" ./backend/cmd/outpost-server
go build -o "$tmp/outpost-sim" ./backend/cmd/outpost-sim
seeds=${SEEDS:-1-1000}
out=build/test-artifacts/soak
mkdir -p "$out"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- backend 2>/dev/null || rev="$rev-dirty"
file="$out/$rev-seeds-$seeds.jsonl"
echo "== outpost-sim soak --seeds $seeds --minutes ${MINUTES:-60} → $file" >&2
"$tmp/outpost-sim" soak --seeds "$seeds" --minutes "${MINUTES:-60}" --hub-share "${HUB_SHARE:-0.3}" | tee "$file"
