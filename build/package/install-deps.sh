#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages that `make package` and
# `make package-test` need (Windows cross-build, installers, signing, Linux
# packages, an apt repository and the checks). Idempotent; quiet on success.
set -euo pipefail

PKGS=(
  nsis                      # makensis: the Windows installer (wails build -nsis)
  mingw-w64                 # cgo cross-compiler for windows/amd64 (go-sqlcipher)
  osslsigncode              # Authenticode signing and verification
  msitools wixl             # wixl: the MSI for Intune/GPO
  reprepro                  # the signed apt repository layout
  rpm                       # rpm -qip/-K on the built .rpm files
  gnupg                     # signing .deb/.rpm and the repository
  desktop-file-utils        # desktop-file-validate
  shellcheck                # lint the packaging scripts
  systemd                   # systemd-analyze verify on the server unit
  dpkg-dev                  # dpkg-deb, dpkg-scanpackages
  openssl                   # the throwaway test CA in package-test
  python3                   # plistlib check of Info.plist
  p7zip-full                # 7z lists and extracts the NSIS installer in the test
  binutils                  # strings (versions in the installer), ar (members of a .deb)
  # The installer and uninstaller run for real in the test: test.sh calls
  # wine, wineboot and wineserver, which only Debian's `wine` package makes
  # (alternatives to the *-stable commands it ships); wine64 holds the 64-bit
  # loader and server it runs. `wine` depends on wine64 | wine32, so with
  # wine64 named here and no recommends, nothing 32-bit (i386) is pulled in.
  wine wine64
  imagemagick               # convert: the Linux icon sizes from build/appicon.png
)

# The commands package.sh, sign.sh and test.sh run, checked after the
# install: a package that installs but lacks a command (as wine64 without
# wine) fails here, by name, not halfway through a test.
CMDS=(
  makensis x86_64-w64-mingw32-gcc x86_64-w64-mingw32-g++ osslsigncode wixl msiinfo
  reprepro rpm gpg desktop-file-validate shellcheck systemd-analyze dpkg-deb
  openssl python3 7z strings ar wine wineboot wineserver convert
)
check_cmds() {
  local c gone=()
  for c in "${CMDS[@]}"; do command -v "$c" >/dev/null || gone+=("$c"); done
  [ ${#gone[@]} -eq 0 ] && return 0
  echo "package/install-deps: still missing after the install: ${gone[*]}" >&2
  return 1
}

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  check_cmds
  exit
fi

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "package/install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "package/install-deps: apt-get failed" >&2
  exit 1
fi
check_cmds
