#!/usr/bin/env bash
# wine-gotest.sh: the Windows test binaries of backend/... and app, cross-
# compiled for windows/amd64 (cgo with mingw, so the real SQLCipher) and run
# under Wine (issue 22). Called by test.sh (`make package-test`), which counts
# one check per package; can run alone:
#
#   bash build/package/wine-gotest.sh build DIR   # DIR/<pkg>.test.exe, DIR/pkgs
#   bash build/package/wine-gotest.sh run DIR PKG # one package's tests under Wine
#
# Two test-only aids, never shipped:
#   - build/windows/testaids/bcryptprimitives.c: Go 1.24+ takes its random
#     numbers from ProcessPrng in bcryptprimitives.dll, which Wine 8 lacks; this
#     one exports it over RtlGenRandom and goes into the prefix's system32.
#   - a `go test -overlay` copy of Go's internal/syscall/windows/at_windows.go
#     with TestDeleteatFallback = true: Wine 8 does not implement the file
#     disposition call (FileDispositionInformationEx) that os.Remove and
#     os.RemoveAll use, so t.TempDir's cleanup would fail. (A bool cannot be
#     set with -ldflags -X, which takes strings only.)
# The prefix is WINEPREFIX (test.sh's throwaway one); the umask 077 makes
# Wine's files private (Wine derives file ACLs from Unix mode bits).
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOFLAGS="${GOFLAGS:--mod=mod}"
# Tests that need what Wine lacks say so and skip; these packages are run.
PKGS=(./backend/... ./app)

# skips PKG: a -test.skip pattern for tests of packages owned elsewhere that
# cannot pass on Windows or under Wine yet, each with its reason (the tests
# themselves should come to say so; see docs/deployment.md).
skips() {
  case $1 in
  */backend/cmd/outpost-server)
    # build outpost-server with the go command, which the Wine prefix lacks
    echo 'TestServe_KillNine|TestServe_Lifecycle|TestServe_TLS|TestServe_SiteImportWakesDevices' ;;
  */backend/syncclient)
    # realserver_test.go builds outpost-server with the go command (no
    # OUTPOST_TEST_SERVER there yet)
    echo 'TestFullPass_ResyncRemovesARowWhoseTombstoneWasPurged|TestReEditUnderReview_KeepsTheManagersDecision|TestRestoredServer_|TestReview_|TestEditWhile|TestCommittedCursor_ClosedMidCatchUpKeepsTheTombstone|TestVerify_CorruptedDeviceRepairsInOneSync' ;;
  */backend/server/sqlitestore)
    # a '?' in the file name, which Windows forbids
    echo 'TestOpen_MigratesOnceAndReopens' ;;
  */backend/store)
    # Unix modes asserted (0700/0600); a '?' in the file name; fixtures of a
    # schema this build may not know yet
    echo 'TestOpen_EncryptsFileAndWAL|TestOpen_PathWithURICharacters|TestUpgradeFromFixtures' ;;
  esac
}

# Packages whose TestMain builds outpost-server with the go command (absent in
# the Wine prefix): built, not run here. They could take OUTPOST_TEST_SERVER,
# as app's tests do.
NOT_RUN='/backend/cmd/outpost-sim|/backend/server/contracttest'

build() {
  local dir=$1 goroot at
  mkdir -p "$dir/bin"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$dir/bcryptprimitives.dll" \
    build/windows/testaids/bcryptprimitives.c build/windows/testaids/bcryptprimitives.def -ladvapi32
  goroot=$(go env GOROOT)
  at=$goroot/src/internal/syscall/windows/at_windows.go
  grep -q '^var TestDeleteatFallback bool$' "$at" || {
    echo "wine-gotest: $at no longer declares TestDeleteatFallback: update the overlay" >&2
    return 1
  }
  sed 's/^var TestDeleteatFallback bool$/var TestDeleteatFallback = true/' "$at" >"$dir/at_windows.go"
  python3 -c 'import json, sys; json.dump({"Replace": {sys.argv[1]: sys.argv[2]}}, open(sys.argv[3], "w"))' \
    "$at" "$dir/at_windows.go" "$dir/overlay.json"
  go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "${PKGS[@]}" | sed '/^$/d' >"$dir/all"
  grep -Ev "^[^ ]*($NOT_RUN) " "$dir/all" >"$dir/pkgs"
  grep -E "^[^ ]*($NOT_RUN) " "$dir/all" | cut -d' ' -f1 >"$dir/notrun" || true
  local list
  mapfile -t list < <(cut -d' ' -f1 "$dir/all")
  [ "${#list[@]}" -gt 0 ] || { echo "wine-gotest: no test packages found" >&2; return 1; }
  # One go test -c for every package (those not run too: they must build):
  # one link step each, built in parallel.
  CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ GOOS=windows GOARCH=amd64 \
    go test -c -overlay "$dir/overlay.json" -o "$dir/bin/" "${list[@]}"
  # The app's sync tests run the real server as a separate process.
  CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ GOOS=windows GOARCH=amd64 \
    go build -overlay "$dir/overlay.json" -o "$dir/bin/outpost-server.exe" ./backend/cmd/outpost-server
}

# run DIR PKG: the package's test binary in its own folder (testdata), in
# the prefix, with the aid DLL in place.
run() {
  local dir=$1 pkg=$2 pdir exe
  pdir=$(awk -v p="$pkg" '$1 == p { print $2 }' "$dir/pkgs")
  exe=$dir/bin/$(basename "$pkg").test.exe
  [ -f "$exe" ] || { echo "no test binary $exe"; return 1; }
  : "${WINEPREFIX:?set WINEPREFIX}"
  local sys32=$WINEPREFIX/drive_c/windows/system32
  [ -f "$sys32/bcryptprimitives.dll" ] || cp "$dir/bcryptprimitives.dll" "$sys32/"
  local rc log skip try
  log=$dir/$(basename "$pkg").log
  skip=$(skips "$pkg")
  # One retry, only when Wine did not start the binary at all (no test ran:
  # the CI run of b2460f2 had csvexport's binary print nothing once in 30
  # packages, and pass on every one of 210 runs after, loaded or not). A
  # binary that ran a test and failed is never run again.
  for try in 1 2; do
    rc=0
    (
      umask 077
      cd "$pdir"
      OUTPOST_TEST_SERVER=$dir/bin/outpost-server.exe WINEDEBUG=-all \
        WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n" \
        timeout "${WINE_TEST_TIMEOUT:-300}" wine "$exe" -test.timeout 270s -test.v ${skip:+-test.skip "$skip"} >"$log" 2>&1
    ) || rc=$?
    # The next binary starts on a fresh wineserver, never on one that is
    # shutting down after this one.
    wineserver -w || true
    if [ "$try" -eq 1 ] && ! grep -q '^=== RUN' "$log" && ! grep -q '^PASS$' "$log"; then
      echo "wine did not start the test binary (exit $rc); its output:"
      tail -n 20 "$log"
      echo "starting it once more"
      continue
    fi
    break
  done
  grep -E -B1 '^\s*--- FAIL|^FAIL|^panic' "$log" | head -60 || true
  echo "$(grep -c -- '--- PASS' "$log" || true) passed, $(grep -c -- '--- SKIP' "$log" || true) skipped${skip:+ (and not run here: $skip)}"
  if [ "$rc" -ne 0 ] || ! grep -q '^PASS$' "$log"; then
    echo "exit $rc; the last lines of its output:"
    tail -n 20 "$log"
    return 1
  fi
}

case "${1:-}" in
build) build "$2" ;;
run) run "$2" "$3" ;;
*)
  echo "usage: $0 build DIR | run DIR PKG" >&2
  exit 2
  ;;
esac
