#!/usr/bin/env bash
# wails-wire: every refusal shape of the Go services (validation with its
# field, unknown badge, wrong PIN with the tries left, lockout with its time,
# refused enrollment code) goes the way it goes in the desktop window:
#   1. app/wire_test.go makes the errors with the real services and formats
#      them with app.FormatError (the app's Wails ErrorFormatter);
#   2. dispatcher_test.go.txt, compiled into a copy of the pinned Wails
#      module's internal/frontend/dispatcher package (Go forbids importing it
#      and overlays may not touch the module cache), answers a bound call
#      failing with each error through the real Dispatcher.ProcessMessage;
#   3. app/internal/bridge (what the browser tests run on) answers the same
#      calls byte for byte as the dispatcher did;
#   4. frontend/src/lib/wailsRuntime.test.ts hands those answers to the real
#      runtime JS (runtime_prod_desktop.js, what the window injects) and
#      asserts the sentences api.ts and the sign-in screen show.
# Quiet on success but for one line.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export GOFLAGS="${GOFLAGS:--mod=mod}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log="$tmp/log"
fail() { cat "$log" >&2; echo "wails-wire: $1" >&2; exit 1; }

wails_dir="$(go list -m -f '{{.Dir}}' github.com/wailsapp/wails/v2)"
runtime_js="$wails_dir/internal/frontend/runtime/runtime_prod_desktop.js"
[ -f "$runtime_js" ] || { echo "wails-wire: no $runtime_js" >&2; exit 1; }

OUTPOST_WIRE_OUT="$tmp/formatted.json" go test -count=1 -run '^TestFormatError_WailsCarriesAString$' ./app/ >"$log" 2>&1 ||
  fail "the Go errors could not be formatted"

cp -r "$wails_dir" "$tmp/wails"
chmod -R u+w "$tmp/wails"
cp frontend/e2e/wails-wire/dispatcher_test.go.txt "$tmp/wails/internal/frontend/dispatcher/zz_outpost_wire_test.go"
printf 'go %s\n\nuse (\n\t%s\n\t%s\n)\n' "$(go list -m -f '{{.GoVersion}}')" "$PWD" "$tmp/wails" >"$tmp/go.work"
GOFLAGS= GOWORK="$tmp/go.work" OUTPOST_WIRE_IN="$tmp/formatted.json" OUTPOST_WIRE_OUT="$tmp/answers.json" \
  go test -count=1 -run '^TestOutpostWire$' github.com/wailsapp/wails/v2/internal/frontend/dispatcher >"$log" 2>&1 ||
  fail "the Wails dispatcher did not answer"

# The bridge the browser tests use answers byte for byte as the dispatcher.
OUTPOST_WIRE_IN="$tmp/formatted.json" OUTPOST_WIRE_ANSWERS="$tmp/answers.json" \
  go test -count=1 -v -run '^TestAnswer_LikeTheWailsDispatcher$' ./app/internal/bridge/ >"$log" 2>&1 &&
  grep -q -- '--- PASS: TestAnswer_LikeTheWailsDispatcher' "$log" ||
  fail "the bridge does not answer as the Wails dispatcher does"

(cd frontend && WAILS_RUNTIME_JS="$runtime_js" OUTPOST_WIRE_ANSWERS="$tmp/answers.json" \
  npx --no-install vitest run --reporter=json --outputFile="$tmp/vitest.json" src/lib/wailsRuntime.test.ts) >"$log" 2>&1 ||
  fail "the refusals did not reach the screen through the real Wails runtime"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (r.numPassedTests === 0 || r.numPassedTests !== r.numTotalTests) { console.error("wails-wire: only " + r.numPassedTests + " of " + r.numTotalTests + " ran and passed"); process.exit(1); }
  console.log("wails-wire: " + r.numPassedTests + " refusals reach the screen through the real Wails runtime");
' "$tmp/vitest.json"
