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
  wine64                    # runs the (64-bit) installer and uninstaller in the test
  imagemagick               # convert: the Linux icon sizes from build/appicon.png
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
