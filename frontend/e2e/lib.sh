# Shell helpers shared by .ci/smoke, .ci/e2e and .ci/e2e-hub: start and stop
# the real binary, wait for its window and database, take and check
# screenshots, type into the window and read its page.
# Source it from bash with `set -euo pipefail`; it expects to run inside
# .ci/with-session (Xvfb, D-Bus, gnome-keyring, temp HOME and XDG dirs).

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
BIN="${BIN:-$ROOT/build/bin/outpost}"
ART="${ART:-$ROOT/build/test-artifacts}"
DATA_DIR="${XDG_DATA_HOME:?run inside .ci/with-session}/outpost"
DB="$DATA_DIR/outpost.db"
APP_PID=""

die() {
  echo "$(basename "$0"): $*" >&2
  [ -n "${APP_LOG:-}" ] && [ -f "$APP_LOG" ] && { echo "--- app log ($APP_LOG):" >&2; tail -n 40 "$APP_LOG" >&2; }
  exit 1
}

# start_app LOG [ENV=VALUE…]: starts the binary in the background.
start_app() {
  APP_LOG="$1"
  shift
  env "$@" "$BIN" >"$APP_LOG" 2>&1 &
  APP_PID=$!
}

stop_app() {
  [ -n "$APP_PID" ] || return 0
  kill -TERM "$APP_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$APP_PID" 2>/dev/null || true
  wait "$APP_PID" 2>/dev/null || true
  APP_PID=""
}

# wait_for SECONDS DESCRIPTION COMMAND…: polls COMMAND until it succeeds.
wait_for() {
  local secs="$1" what="$2"
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ -n "$APP_PID" ] && ! kill -0 "$APP_PID" 2>/dev/null && die "the app exited while waiting for $what"
    [ "$SECONDS" -ge "$end" ] && die "timed out after ${secs}s waiting for $what"
    sleep 0.25
  done
}

window_id() { xdotool search --onlyvisible --name '^Outpost$' 2>/dev/null | head -n1; }
has_window() { [ -n "$(window_id)" ]; }

# log_has PATTERN: the app log contains PATTERN (fixed string).
log_has() { grep -qF -- "$1" "$APP_LOG"; }

# shot NAME: screenshot of the whole (Xvfb) screen into $ART/NAME.png.
shot() {
  mkdir -p "$ART"
  import -window root "$ART/$1.png"
}

# colours FILE: the number of distinct colours in a picture.
colours() { convert "$1" -format '%k' info:; }

# assert_not_blank FILE: a rendered UI has text and shapes, so many colours
# and a spread of brightness; a blank or single-colour screen has neither.
assert_not_blank() {
  local n sd
  n="$(colours "$1")"
  sd="$(convert "$1" -colorspace Gray -format '%[fx:standard_deviation]' info:)"
  [ "$n" -ge 64 ] || die "$1 looks blank ($n colours)"
  awk -v sd="$sd" 'BEGIN { exit !(sd > 0.02) }' || die "$1 looks blank (brightness spread $sd)"
}

# wait_rendered NAME SECONDS: takes screenshots until one is not blank (the
# WebView paints a moment after the window maps), then a last one settled.
wait_rendered() {
  local name="$1" secs="${2:-30}"
  local end=$((SECONDS + secs))
  while :; do
    shot "$name"
    if [ "$(colours "$ART/$name.png")" -ge 64 ]; then break; fi
    [ "$SECONDS" -ge "$end" ] && die "the window stayed blank for ${secs}s ($ART/$name.png)"
    sleep 0.5
  done
  sleep 1.5
  shot "$name"
  assert_not_blank "$ART/$name.png"
}

# keychain_key: the database key stored in the Secret Service, or nothing.
keychain_key() { secret-tool lookup service Outpost username database-key 2>/dev/null || true; }

# assert_encrypted: the database file is not plain SQLite.
assert_encrypted() {
  [ -s "$DB" ] || die "no database at $DB"
  if head -c 16 "$DB" | grep -q "SQLite format 3"; then die "$DB is a plain SQLite file"; fi
}

# --- a real sync server beside the app (.ci/e2e) ---------------------------
SERVER_BIN="${SERVER_BIN:-$ROOT/build/bin/outpost-server}"
SERVER_PID=""
SERVER_URL=""
SERVER_DB=""

# start_server LOG: outpost-server on embedded SQLite in the session's temp
# dir, on a free loopback port; sets SERVER_URL and SERVER_DB.
start_server() {
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  SERVER_DB="sqlite://${OUTPOST_SESSION_TMP:?run inside .ci/with-session}/server.db"
  SERVER_URL="http://127.0.0.1:$port"
  "$SERVER_BIN" serve --listen "127.0.0.1:$port" --db "$SERVER_DB" >"$1" 2>&1 &
  SERVER_PID=$!
  wait_for 20 "the sync server" curl -fsS "$SERVER_URL/v1/health"
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# enroll_code SITE ROLE: a single-use enrollment code.
enroll_code() { "$SERVER_BIN" enroll --db "$SERVER_DB" --site "$1" --role "$2" --ttl 1h | tail -n1; }

# api METHOD PATH TOKEN [BODY]: one JSON request to the server.
api() {
  local args=(-fsS -X "$1" -H 'Content-Type: application/json' -H 'Outpost-Protocol: 1')
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(--data-binary "$4")
  curl "${args[@]}" "$SERVER_URL$2"
}

uuid() { cat /proc/sys/kernel/random/uuid; }
now_ms() { date +%s%3N; }

# --- the keyboard and the page of the real window (.ci/e2e, .ci/e2e-hub) ----
key() { xdotool key --clearmodifiers "$@"; sleep 0.35; }
typ() { xdotool type --delay 25 -- "$1"; sleep 0.2; }
settle() { sleep "${1:-0.8}"; }
js_string() { node -e 'console.log(JSON.stringify(process.argv[1]))' "$1"; }
# page EXPRESSION: its value (JSON) in the real window's page, read through
# WebKit's remote inspector on 127.0.0.1:$iport (the caller starts the app
# with WEBKIT_INSPECTOR_HTTP_SERVER there and sets iport).
page() { node --experimental-websocket --no-warnings "$ROOT/frontend/e2e/webkit-eval.mjs" "127.0.0.1:${iport:?start the app with the inspector first}" "$1"; }
# page_shows TEXT: the window shows TEXT (waits on what a fixed sleep guessed).
page_shows() { [ "$(page "document.body.innerText.includes($(js_string "$1"))")" = true ]; }
# page_has SELECTOR: the page has an element matching SELECTOR.
page_has() { [ "$(page "document.querySelector($(js_string "$1")) !== null")" = true ]; }
# page_focused ID: the element with id ID has the keyboard focus.
page_focused() { [ "$(page "document.activeElement !== null && document.activeElement.id === $(js_string "$1")")" = true ]; }
