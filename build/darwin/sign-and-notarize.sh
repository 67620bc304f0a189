#!/usr/bin/env bash
# sign-and-notarize.sh: builds Outpost.app (darwin/universal), signs it with
# a Developer ID under the hardened runtime, notarizes and staples it, and
# wraps it in a signed, notarized installer package for MDM (Jamf, Intune).
# Runs on macOS only (Xcode command line tools); .github/workflows/macos.yml
# runs it on a macOS runner. From the repository root:
#   build/darwin/sign-and-notarize.sh
#
# Environment (nothing is read from files in the repository):
#   APPLE_SIGN_IDENTITY       "Developer ID Application: Org (TEAMID)"; unset:
#                             the app is built and left unsigned (named so)
#   APPLE_INSTALLER_IDENTITY  "Developer ID Installer: Org (TEAMID)" for the .pkg
#   APPLE_KEYCHAIN            keychain holding both identities (optional)
#   Notarization, either an App Store Connect API key:
#     APPLE_API_KEY_PATH (the .p8 file), APPLE_API_KEY_ID, APPLE_API_ISSUER
#   or an Apple ID with an app-specific password:
#     APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD
#   VERSION                   overrides `git describe`
#   SKIP_BUILD=1              sign an existing build/bin/Outpost.app
set -euo pipefail # (bash 3.2 safe: macOS /bin/bash)
cd "$(dirname "$0")/../.."

say() { echo "sign-and-notarize: $*" >&2; }
die() { echo "sign-and-notarize: error: $*" >&2; exit 1; }

[ "$(uname -s)" = Darwin ] || die "this script runs on macOS only (see docs/deployment.md)"

VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
# CFBundleShortVersionString must be numbers: v1.2.3-4-gabc -> 1.2.3, build 4.
if [[ $VERSION =~ ^v?([0-9]+\.[0-9]+\.[0-9]+)(-([0-9]+)-g[0-9a-f]+)?(-dirty)?$ ]]; then
  SHORT=${BASH_REMATCH[1]}
  BUILD="${BASH_REMATCH[1]}.${BASH_REMATCH[3]:-0}"
else
  SHORT=0.0.0
  BUILD="0.0.0.$(git rev-list --count HEAD 2>/dev/null || echo 0)"
fi
APP=build/bin/Outpost.app
OUT=build/bin

if [ "${SKIP_BUILD:-}" != 1 ]; then
  say "building $APP ($VERSION)"
  go tool wails build -platform darwin/universal -trimpath -ldflags "-s -w -X main.version=$VERSION"
fi
[ -d "$APP" ] || die "$APP not found"

plist=$APP/Contents/Info.plist
/usr/libexec/PlistBuddy -c "Set :CFBundleShortVersionString $SHORT" "$plist"
/usr/libexec/PlistBuddy -c "Set :CFBundleVersion $BUILD" "$plist"
plutil -lint "$plist" >/dev/null

if [ -z "${APPLE_SIGN_IDENTITY:-}" ]; then
  ditto -c -k --keepParent "$APP" "$OUT/outpost-$VERSION-macos-universal-unsigned.zip"
  say "APPLE_SIGN_IDENTITY not set: left UNSIGNED as $OUT/outpost-$VERSION-macos-universal-unsigned.zip"
  exit 0
fi

kc=()
[ -n "${APPLE_KEYCHAIN:-}" ] && kc=(--keychain "$APPLE_KEYCHAIN")

say "signing with $APPLE_SIGN_IDENTITY (hardened runtime)"
codesign --force --options runtime --timestamp ${kc[@]+"${kc[@]}"} \
  --entitlements build/darwin/entitlements.plist \
  --sign "$APPLE_SIGN_IDENTITY" "$APP"
codesign --verify --strict --deep --verbose=2 "$APP"

notarize() { # notarize FILE: submits FILE and waits for Apple's verdict.
  local creds=()
  if [ -n "${APPLE_API_KEY_PATH:-}" ]; then
    creds=(--key "$APPLE_API_KEY_PATH" --key-id "$APPLE_API_KEY_ID" --issuer "$APPLE_API_ISSUER")
  elif [ -n "${APPLE_ID:-}" ]; then
    creds=(--apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" --password "$APPLE_APP_PASSWORD")
  else
    die "no notarization credentials (APPLE_API_KEY_PATH… or APPLE_ID…)"
  fi
  say "notarizing $1 (this waits for Apple)"
  xcrun notarytool submit "$1" "${creds[@]}" --wait --timeout 30m
}

zip="$OUT/outpost-$VERSION-macos-universal.zip"
ditto -c -k --keepParent "$APP" "$zip"
notarize "$zip"
xcrun stapler staple "$APP"
xcrun stapler validate "$APP"
spctl --assess --type execute --verbose "$APP"
rm -f "$zip"
ditto -c -k --keepParent "$APP" "$zip" # again, now with the ticket stapled

if [ -n "${APPLE_INSTALLER_IDENTITY:-}" ]; then
  pkg="$OUT/outpost-$VERSION-macos-universal.pkg"
  pkgbuild --component "$APP" --install-location /Applications \
    --identifier io.outpost.desktop.pkg --version "$BUILD" \
    --sign "$APPLE_INSTALLER_IDENTITY" ${kc[@]+"${kc[@]}"} --timestamp "$pkg"
  notarize "$pkg"
  xcrun stapler staple "$pkg"
  pkgutil --check-signature "$pkg"
  say "done: $zip $pkg"
else
  say "done: $zip (APPLE_INSTALLER_IDENTITY not set: no .pkg)"
fi
