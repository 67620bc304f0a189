#!/usr/bin/env bash
# run.sh: the sync server benchmark (make bench). Builds outpost-server, runs
# the open- and closed-loop load of backend/server/bench against it on
# loopback, and prints a Markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/outpost-server" ./backend/cmd/outpost-server
go run ./backend/server/bench -server "$tmp/outpost-server" "$@"
