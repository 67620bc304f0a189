#!/usr/bin/env bash
# test.sh: `make package-test`. Builds every artifact with throwaway keys (a
# test CA and code-signing certificate, a GPG key, all in a temporary folder,
# never kept) through package.sh, then checks them as IT would:
#   - Authenticode signatures of the exe, the installer, the exe inside the
#     installer and the MSI, against the test CA (osslsigncode verify -CAfile)
#   - the versions stamped into the binaries and installers
#   - .deb: dpkg-deb -I/-c, the package signature, apt-get install -s, a real
#     install into a throwaway root (dpkg --root) with the server's user, data
#     folder and permissions, and a purge that keeps the data
#   - .rpm: rpm -qip/-qlp and rpm -K against the test key
#   - the apt repository: apt-get update through its signature (and a refusal
#     with the wrong key), then apt-get install -s from it
#   - desktop-file-validate, systemd-analyze verify, the macOS plists, shellcheck,
#     actionlint of the Windows and macOS workflows
#   - the Go tests of backend/... and app, cross-compiled for Windows and run
#     under Wine (wine-gotest.sh), one check per package
#   - sizes (the app installer must stay within 20 MB)
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
START=$SECONDS
export GOFLAGS="${GOFLAGS:--mod=mod}"

bash build/package/install-deps.sh
# One version for both builds, however the tree moves meanwhile.
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
export VERSION

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
# check NAME CMD…: runs one check, prints its output only when it fails.
check() {
  local name=$1
  shift
  # A subshell outside any condition, so that set -e applies inside the
  # check's functions: every step of a check must pass, not only its last.
  local rc=0
  set +e
  (set -e; "$@") >"$T/check.log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok    $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
    sed 's/^/      /' "$T/check.log" | tail -40
  fi
}
# contains PATTERN CMD…: CMD succeeds and prints a line matching PATTERN.
contains() {
  local pattern=$1 out
  shift
  out=$("$@" 2>&1) || { echo "$out"; return 1; }
  grep -Eq -- "$pattern" <<<"$out" || { echo "$out"; echo "(no line matches: $pattern)"; return 1; }
}

# ---- checks that need no build ---------------------------------------------
plist() { python3 -c 'import plistlib, sys; plistlib.load(open(sys.argv[1], "rb"))' "$1"; }
check "shellcheck packaging scripts" shellcheck build/package/*.sh build/darwin/*.sh \
  build/linux/outpost-server/*.sh build/linux/outpost-server/outpostctl
check "plist build/darwin/Info.plist" plist build/darwin/Info.plist
check "plist build/darwin/entitlements.plist" plist build/darwin/entitlements.plist
check "desktop-file-validate outpost.desktop" desktop-file-validate build/linux/outpost/outpost.desktop
# The Windows and macOS workflows cannot run here: they are linted (actionlint
# as a Go tool, pinned; Debian has no package; it runs shellcheck on their scripts).
check "actionlint .github/workflows" go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 .github/workflows/windows.yml \
  .github/workflows/macos.yml

# ---- throwaway keys ----------------------------------------------------------
K=$T/keys
mkdir -m 700 "$K"
keys() {
  openssl req -x509 -newkey rsa:3072 -nodes -keyout "$K/ca.key" -out "$K/ca.pem" -days 2 \
    -subj "/CN=Outpost Test CA (throwaway)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -newkey rsa:3072 -keyout "$K/sign.key" -passout pass:sign-test-password \
    -out "$K/sign.csr" -subj "/CN=Outpost Test Code Signing/O=Outpost"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$K/ext"
  openssl x509 -req -in "$K/sign.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial -days 2 \
    -extfile "$K/ext" -out "$K/sign.crt"
  cat "$K/sign.crt" "$K/ca.pem" >"$K/chain.pem"

  export GNUPGHOME=$K/gnupg
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --pinentry-mode loopback --passphrase gpg-test-pass \
    --quick-gen-key "Outpost Test Packaging (throwaway) <packaging@outpost-app.invalid>" rsa3072 sign 2d
  gpg --batch --pinentry-mode loopback --passphrase gpg-test-pass --armor --export-secret-keys >"$K/gpg.asc"
  gpg --batch --armor --export >"$K/gpg-pub.asc"
  gpg --batch --export >"$K/gpg-pub.gpg"
  unset GNUPGHOME
}
check "generate a throwaway test CA, code-signing certificate and GPG key" keys

# ---- build -----------------------------------------------------------------
# First without keys (Linux only: the Go build cache makes it cheap): it must
# say so, name its artifacts *-unsigned* and build no apt repository.
unsigned_build() {
  env -u OUTPOST_SIGN_CERT -u OUTPOST_SIGN_KEY -u OUTPOST_GPG_KEY PACKAGE_TARGETS=linux \
    bash build/package/package.sh 2>&1 | tee "$T/unsigned.log"
  grep -q "UNSIGNED" "$T/unsigned.log"
  ls build/bin/outpost_*_amd64-unsigned.deb build/bin/outpost-server-*.x86_64-unsigned.rpm
  [ ! -e build/bin/apt ]
}
check "package.sh without keys: says so, names artifacts *-unsigned*" unsigned_build

# A stand-in for the WebView2 standalone installer (Microsoft's is 150+ MB):
# it records that it ran and registers a runtime, as the real one does.
FAKE_WV2=$T/MicrosoftEdgeWebView2RuntimeInstallerX64.exe
check "build the stand-in WebView2 installer (mingw)" x86_64-w64-mingw32-gcc -O2 -o "$FAKE_WV2" \
  build/windows/testaids/fake-webview2-setup.c

build_start=$SECONDS
build() {
  WEBVIEW2_INSTALLER=$FAKE_WV2 \
  OUTPOST_SIGN_CERT=$K/chain.pem OUTPOST_SIGN_KEY=$K/sign.key OUTPOST_SIGN_PASSWORD=sign-test-password \
    OUTPOST_GPG_KEY=$K/gpg.asc OUTPOST_GPG_PASSPHRASE=gpg-test-pass \
    bash build/package/package.sh
}
check "package.sh with signing keys" build
build_secs=$((SECONDS - build_start))
B=$ROOT/build/bin
# first FILE…: the first of the (globbed) files that exists, or "".
first() { local f; for f in "$@"; do [ -e "$f" ] && { echo "$f"; return; }; done; echo ""; }
setup=$(first "$B"/outpost-*-windows-amd64-setup*.exe)
exe=$(first "$B"/outpost-*-windows-amd64.exe "$B"/outpost-*-windows-amd64-unsigned.exe)
msi=$(first "$B"/outpost-*-windows-amd64*.msi)
app_deb=$(first "$B"/outpost_*_amd64*.deb)
srv_deb=$(first "$B"/outpost-server_*_amd64*.deb)
app_rpm=$(first "$B"/outpost-[0-9]*.x86_64*.rpm)
srv_rpm=$(first "$B"/outpost-server-[0-9]*.x86_64*.rpm)
repo=$B/apt

no_unsigned() { ! ls "$B"/*-unsigned* 2>/dev/null; }
check "no artifact is named unsigned in a signed build" no_unsigned

# ---- Windows -----------------------------------------------------------------
verify() { contains "Signature verification: ok" osslsigncode verify -CAfile "$K/ca.pem" -in "$1"; }
check "Authenticode: $(basename "$exe")" verify "$exe"
check "Authenticode: $(basename "$setup")" verify "$setup"
check "Authenticode: $(basename "$msi")" verify "$msi"
inner() {
  7z x -y -o"$T/nsis" "$setup" >/dev/null
  verify "$T/nsis/outpost.exe"
  verify "$T/nsis/outpost-recover.exe"
  cmp "$T/nsis/outpost.exe" "$exe"
}
check "installer holds the signed outpost.exe and outpost-recover.exe" inner
check "outpost.exe carries version $VERSION" grep -qaF "$VERSION" "$exe"
check "installer carries version $VERSION" contains "$VERSION" strings -el "$setup"
check "MSI ProductVersion and per-machine scope" contains "^ALLUSERS	1" msiinfo export "$msi" Property
carries_webview2() {
  7z l "$setup" | grep -F 'MicrosoftEdgeWebView2Setup.exe'
  contains "^InstallWebView2	3090	WebView2SetupExe	/silent /install" msiinfo export "$msi" CustomAction
  contains "NOT Installed AND \(NOT WEBVIEW2PV" msiinfo export "$msi" InstallExecuteSequence
}
check "installer and MSI carry WEBVIEW2_INSTALLER, run silently when WebView2 is missing" carries_webview2

# ---- Windows: the installer run for real, under Wine -------------------------------
W=$T/wine
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# wine_run EXE ARGS…: runs a Windows program in the throwaway prefix and waits
# for it and everything it started (the uninstaller re-launches itself).
wine_run() {
  local rc=0
  WINEPREFIX=$W timeout 300 wine "$@" || rc=$?
  WINEPREFIX=$W wineserver -w
  return "$rc"
}
PF="$W/drive_c/Program Files/Outpost"
PD="$W/drive_c/ProgramData/Outpost"
config_is() { # config_is JSON: the managed config.json holds exactly these settings
  python3 - "$PD/config.json" "$1" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
got = json.loads(raw.decode("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"))
want = json.loads(sys.argv[2])
if got != want:
    sys.exit("config.json is %r, want %r" % (got, want))
PY
}
WANT_CONFIG='{"server_url": "https://outpost.example.com:8787/sync", "enrollment_code": "ABCD-EFGH-IJKL",
  "ca_bundle": "C:\\Program Files\\Site CA\\ca.pem", "proxy_url": "direct", "locked": ["server_url", "proxy_url"]}'
wine_install() {
  WINEPREFIX=$W wineboot --init >/dev/null 2>&1
  WINEPREFIX=$W wineserver -w
  WINEPREFIX=$W wine winecfg -v win10 >/dev/null 2>&1 # the installer requires Windows 10
  # Say WebView2 is present, so the installer never starts Microsoft's
  # bootstrapper, which would try to download it: tests stay off the network.
  WINEPREFIX=$W wine reg add \
    'HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}' \
    /v pv /t REG_SZ /d 120.0.0.0 /f >/dev/null
  wine_run "$setup" /S /SERVER=https://outpost.example.com:8787/sync /ENROLL=ABCD-EFGH-IJKL \
    '/CA=C:\Program Files\Site CA\ca.pem' /PROXY=direct /LOCK=server_url,proxy_url
  for f in outpost.exe outpost-recover.exe outpost-config.exe uninstall.exe; do
    [ -f "$PF/$f" ] || { echo "missing $PF/$f"; return 1; }
  done
  cmp "$PF/outpost.exe" "$exe"
  [ ! -e "$W/drive_c/webview2-installer-ran.txt" ] || { echo "WebView2 installer ran though WebView2 is present"; return 1; }
  config_is "$WANT_CONFIG"
  WINEPREFIX=$W wine reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Outpost' |
    grep -E "DisplayVersion +REG_SZ +$VERSION"
}
check "wine: setup.exe /S /SERVER= /ENROLL= /CA= /PROXY= /LOCK= installs and writes config.json" wine_install
wine_config_check() {
  # The app's own rules, Windows paths included. (outpost-config.exe itself
  # cannot run here: Go 1.26 needs bcryptprimitives.dll, which Wine 8 lacks.)
  contains 'server_url +"https://outpost.example.com:8787/sync" +\(managed, locked\)' \
    go run ./backend/config/cmd/outpost-config check --os windows --managed "$PD/config.json"
}
check "outpost-config check --os windows accepts the installer's config.json" wine_config_check
wine_upgrade() {
  wine_run "$setup" /S
  config_is "$WANT_CONFIG"
}
check "wine: reinstall without parameters keeps config.json" wine_upgrade
wine_uninstall() {
  local profile
  profile=$(find "$W/drive_c/users" -mindepth 1 -maxdepth 1 -type d ! -name Public | head -1)
  mkdir -p "$profile/AppData/Local/Outpost" "$profile/AppData/Roaming/Outpost"
  echo db >"$profile/AppData/Local/Outpost/outpost.db"
  echo '{}' >"$profile/AppData/Roaming/Outpost/config.json"
  wine_run "$PF/uninstall.exe" /S
  [ ! -e "$PF/outpost.exe" ] || { echo "program not removed"; return 1; }
  [ -f "$profile/AppData/Local/Outpost/outpost.db" ] || { echo "user database removed"; return 1; }
  [ -f "$PD/config.json" ] || { echo "managed config removed"; return 1; }
  ! WINEPREFIX=$W wine reg query 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Outpost' >/dev/null 2>&1
}
check "wine: uninstall.exe /S removes the program, keeps user data and config" wine_uninstall
wine_purge() {
  local profile
  profile=$(find "$W/drive_c/users" -mindepth 1 -maxdepth 1 -type d ! -name Public | head -1)
  wine_run "$setup" /S
  wine_run "$PF/uninstall.exe" /S /PURGE
  for d in "$profile/AppData/Local/Outpost" "$profile/AppData/Roaming/Outpost" "$PD" "$PF"; do
    [ ! -e "$d" ] || { echo "$d survived /PURGE"; return 1; }
  done
}
check "wine: uninstall.exe /S /PURGE removes every profile's data and config" wine_purge
wine_config_file() {
  printf '{"server_url": "https://copied.example.com", "locked": ["*"]}' >"$W/drive_c/site.json"
  wine_run "$setup" /S '/CONFIG=C:\site.json'
  config_is '{"server_url": "https://copied.example.com", "locked": ["*"]}'
}
check "wine: setup.exe /S /CONFIG= installs a prepared config.json" wine_config_file
WV2_KEY='HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}'
wine_webview2_install() {
  WINEPREFIX=$W wine reg delete "$WV2_KEY" /f >/dev/null 2>&1 || true
  rm -f "$W/drive_c/webview2-installer-ran.txt"
  wine_run "$setup" /S
  tr -d '\r' <"$W/drive_c/webview2-installer-ran.txt" | grep -qx '/silent /install' ||
    { cat "$W/drive_c/webview2-installer-ran.txt"; echo "the embedded WebView2 installer did not run silently"; return 1; }
  WINEPREFIX=$W wine reg query "$WV2_KEY" /v pv | grep -q 120.0.0.0
}
check "wine: setup.exe /S runs the embedded WebView2 installer silently when WebView2 is missing" wine_webview2_install

# ---- Windows: the Go tests of backend/... and app under Wine -----------------
# Cross-compiled for windows/amd64 with cgo (mingw: the real SQLCipher) and
# run in the same prefix, with Wine's Credential Manager; see wine-gotest.sh
# for the two test-only aids Wine 8 needs. One check per package.
G=$T/wine-gotest
wine_go_start=$SECONDS
check "cross-compile the Windows test binaries of backend/... and app" bash build/package/wine-gotest.sh build "$G"
if [ -s "$G/pkgs" ]; then
  while read -r pkg _; do
    check "wine: go test ${pkg#github.com/outpost-app/outpost/}" env WINEPREFIX="$W" bash build/package/wine-gotest.sh run "$G" "$pkg"
  done <"$G/pkgs"
fi
wine_go_secs=$((SECONDS - wine_go_start))
wine_app_no_webview2() {
  # The installed app on a PC without WebView2 (Wine has none; the registry
  # entry the stand-in wrote goes first): it exits, and outpost.log says in
  # one sentence what is missing and what IT installs. Nothing is downloaded.
  local data=$T/wine-app-data rc=0
  cp -n "$G/bcryptprimitives.dll" "$W/drive_c/windows/system32/" 2>/dev/null || true
  WINEPREFIX=$W wine reg delete "$WV2_KEY" /f >/dev/null 2>&1 || true
  mkdir -p "$data"
  OUTPOST_DATA_DIR="Z:${data//\//\\}" WINEPREFIX=$W WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n" \
    timeout 120 wine "$PF/outpost.exe" || rc=$?
  WINEPREFIX=$W wineserver -w
  [ "$rc" -ne 0 ] || { echo "outpost.exe exited 0 without WebView2"; return 1; }
  cat "$data/logs/outpost.log"
  grep -q 'msg="outpost stopped" err="Outpost cannot start: the Microsoft Edge WebView2 Runtime is not installed on this PC. IT should install it' \
    "$data/logs/outpost.log"
}
check "wine: outpost.exe without WebView2 logs what is missing and what IT installs" wine_app_no_webview2
if [ -s "$G/notrun" ]; then
  echo "      not run under Wine (their TestMain builds outpost-server with the go command):"
  sed 's#^github.com/outpost-app/outpost/#        #' "$G/notrun"
fi

# ---- Linux: packages -----------------------------------------------------------
for deb in "$app_deb" "$srv_deb"; do
  n=$(basename "$deb")
  check "dpkg-deb -I $n" contains "^ Version: " dpkg-deb -I "$deb"
  check "dpkg-deb -c $n" dpkg-deb -c "$deb"
  debsig() {
    local d
    d=$T/debsig/$(basename "$1")
    mkdir -p "$d"
    (cd "$d" && ar x "$1")
    [ -f "$d/_gpgorigin" ] || { echo "no _gpgorigin signature member"; return 1; }
    mkdir -p "$T/verify-gnupg" && chmod 700 "$T/verify-gnupg"
    GNUPGHOME=$T/verify-gnupg gpg --batch --import "$K/gpg-pub.asc"
    (cd "$d" && cat debian-binary control.tar.* data.tar.*) |
      GNUPGHOME=$T/verify-gnupg gpg --batch --verify "$d/_gpgorigin" -
  }
  check "GPG signature of $n" debsig "$deb"
  check "apt-get install -s $n" contains "^Inst (outpost|outpost-server) " apt-get install -s "$deb"
done
check "app .deb depends on GTK 3 and WebKitGTK 4.1" contains "Depends: .*libgtk-3-0.*libwebkit2gtk-4.1-0" dpkg-deb -I "$app_deb"
check "app .deb holds the .desktop entry and icons" contains "usr/share/icons/hicolor/512x512/apps/outpost.png" dpkg-deb -c "$app_deb"

R=$T/root
dpkg_root() {
  mkdir -p "$R"/var/lib/dpkg/{info,updates,triggers} "$R/etc" "$R/usr/bin" "$R/var/lib"
  : >"$R/var/lib/dpkg/status"
  : >"$R/var/lib/dpkg/available"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
  printf 'root:x:0:\n' >"$R/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
  printf 'root:*::\n' >"$R/etc/gshadow"
  chmod 640 "$R/etc/shadow" "$R/etc/gshadow"
  # Scripts run without chroot, against $DPKG_ROOT (the postinstall honours it).
  dpkg --root="$R" --force-depends --force-script-chrootless --log=/dev/null -i "$srv_deb" "$app_deb"
  dpkg --root="$R" -l | grep -E '^ii +(outpost|outpost-server) '
}
check "dpkg --root: install both packages into a throwaway root" dpkg_root
server_installed() {
  grep -q '^outpost:' "$R/etc/passwd"
  uid=$(awk -F: '$1=="outpost"{print $3}' "$R/etc/passwd")
  [ "$(stat -c '%u %a' "$R/var/lib/outpost")" = "$uid 750" ] || { stat "$R/var/lib/outpost"; return 1; }
  gid=$(awk -F: '$1=="outpost"{print $3}' "$R/etc/group")
  [ "$(stat -c '%u %g %a' "$R/etc/outpost/server.env")" = "0 $gid 640" ] || { stat "$R/etc/outpost/server.env"; return 1; }
  grep -q '^OUTPOST_DB=sqlite:///var/lib/outpost/server.db' "$R/etc/outpost/server.env"
  test -x "$R/usr/bin/outpostctl"
}
check "server package: outpost user, /var/lib/outpost 0750, server.env root:outpost 0640" server_installed
server_runs() {
  # The packaged binary with the packaged settings, only the database moved
  # into the temporary folder and the port made free: it must serve.
  local port=$((20000 + RANDOM % 20000)) pid ok=false
  (
    set -a
    # shellcheck disable=SC1091
    . "$R/etc/outpost/server.env"
    set +a
    OUTPOST_DB="sqlite://$T/server.db" OUTPOST_LISTEN="127.0.0.1:$port" exec "$R/usr/bin/outpost-server" serve
  ) >"$T/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    if python3 -c 'import sys, urllib.request; sys.exit(0 if b"\"ok\"" in urllib.request.urlopen(sys.argv[1], timeout=2).read() else 1)' \
      "http://127.0.0.1:$port/v1/health" 2>/dev/null; then
      ok=true
      break
    fi
    sleep 0.2
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  $ok || { cat "$T/server.log"; return 1; }
}
check "packaged outpost-server serves /v1/health with the packaged server.env" server_runs
check "outpost-server --version prints $VERSION" contains "$VERSION" "$R/usr/bin/outpost-server" --version
check "desktop-file-validate (installed entry)" desktop-file-validate "$R/usr/share/applications/outpost.desktop"
unit_verify() {
  # The installed unit, with ExecStart pointing at the installed binary (a
  # throwaway root has no systemd of its own); any message is a failure.
  mkdir -p "$T/unit"
  sed "s#/usr/bin/outpost-server#$R/usr/bin/outpost-server#" \
    "$R/usr/lib/systemd/system/outpost-server.service" >"$T/unit/outpost-server.service"
  systemd-analyze verify "$T/unit/outpost-server.service" >"$T/unit.log" 2>&1
  cat "$T/unit.log"
  [ ! -s "$T/unit.log" ]
}
check "systemd-analyze verify outpost-server.service" unit_verify
purge_keeps_data() {
  echo data >"$R/var/lib/outpost/server.db"
  dpkg --root="$R" --force-script-chrootless --log=/dev/null --purge outpost-server
  [ -f "$R/var/lib/outpost/server.db" ] || { echo "purge deleted the server's data"; return 1; }
  [ ! -e "$R/usr/bin/outpost-server" ]
  [ ! -e "$R/etc/outpost/server.env" ]
}
check "dpkg --purge outpost-server keeps /var/lib/outpost" purge_keeps_data

rpm_check() {
  local db=$T/rpmdb
  mkdir -p "$db"
  rpm --dbpath "$db" --initdb
  rpm --dbpath "$db" --import "$K/gpg-pub.asc"
  rpm --dbpath "$db" -qip "$1"
  rpm -qlp "$1" | grep -- "$2" >/dev/null
  contains "(digests )?signatures OK" rpm --dbpath "$db" -K "$1"
}
check "rpm: $(basename "$app_rpm") (contents, signature)" rpm_check "$app_rpm" /usr/bin/outpost
check "rpm: $(basename "$srv_rpm") (contents, signature)" rpm_check "$srv_rpm" /usr/lib/systemd/system/outpost-server.service
check "rpm requires the Fedora GTK/WebKit names" contains "webkit2gtk4.1" rpm -qpR "$app_rpm"

# ---- Linux: the signed apt repository ------------------------------------------
A=$T/apt
apt_opts() {
  echo -o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/parts" \
    -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o "APT::Sandbox::User=root"
}
apt_repo() {
  mkdir -p "$A/parts" "$A/lists/partial" "$A/cache/archives/partial"
  echo "deb [signed-by=$1] file://$repo stable main" >"$A/sources.list"
  rm -rf "$A/lists"/*Release* "$A/lists"/*Packages* 2>/dev/null || true
  # shellcheck disable=SC2046
  apt-get $(apt_opts) -q update 2>&1 | tee "$T/apt-update.log"
  ! grep -qE '^(W|E):' "$T/apt-update.log"
}
check "apt-get update verifies the repository signature" apt_repo "$repo/outpost-archive-keyring.gpg"
apt_install_from_repo() {
  # shellcheck disable=SC2046
  contains "^Inst outpost-server " apt-get $(apt_opts) -s install outpost outpost-server
}
check "apt-get install -s outpost outpost-server from the repository" apt_install_from_repo
wrong_key() {
  GNUPGHOME=$T/other-gnupg
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  GNUPGHOME=$T/other-gnupg gpg --batch --passphrase '' --quick-gen-key "Someone else <x@invalid>" rsa2048 sign 1d
  GNUPGHOME=$T/other-gnupg gpg --batch --export >"$T/other.gpg"
  ! apt_repo "$T/other.gpg"
}
check "apt-get update refuses the repository under another key" wrong_key

# ---- sizes -----------------------------------------------------------------------
echo
echo "artifacts (build/bin):"
for f in "$setup" "$msi" "$exe" "$app_deb" "$app_rpm" "$srv_deb" "$srv_rpm"; do
  [ -n "$f" ] && [ -f "$f" ] && awk -v b="$(stat -c %s "$f")" -v n="$(basename "$f")" 'BEGIN { printf "  %8.1f MB  %s\n", b / 1048576, n }'
done
[ -d "$repo" ] && printf '  %8s     %s\n' "$(du -sh "$repo" | cut -f1)" "apt/ (signed repository)"
size_ok() { [ "$(stat -c %s "$setup")" -le $((20 * 1024 * 1024)) ]; }
check "app installer within 20 MB" size_ok

echo
echo "package-test: build ${build_secs} s, Windows Go tests under Wine ${wine_go_secs:-0} s, total $((SECONDS - START)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
