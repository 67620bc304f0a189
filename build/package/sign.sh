#!/usr/bin/env bash
# sign.sh FILE: Authenticode-signs FILE (.exe or .msi) in place with
# osslsigncode. Called by package.sh and by makensis (!finalize and
# !uninstfinalize), with the certificate in the environment:
#   OUTPOST_SIGN_CERT     PEM chain file, or a .pfx/.p12 file
#   OUTPOST_SIGN_KEY      PEM key file, or a pkcs11: URI
#   OUTPOST_SIGN_PASSFILE file holding the key's password (package.sh writes it)
#   OUTPOST_SIGN_PKCS11_MODULE, OUTPOST_SIGN_TIMESTAMP_URL (optional)
set -euo pipefail
file=$1
[ -n "${OUTPOST_SIGN_CERT:-}" ] || { echo "sign.sh: OUTPOST_SIGN_CERT is not set" >&2; exit 1; }

args=(sign -h sha256 -n "Outpost" -i "https://outpost-app.invalid")
case "$OUTPOST_SIGN_CERT" in
  *.pfx | *.p12) args+=(-pkcs12 "$OUTPOST_SIGN_CERT") ;;
  *) args+=(-certs "$OUTPOST_SIGN_CERT" -key "$OUTPOST_SIGN_KEY") ;;
esac
[ -n "${OUTPOST_SIGN_PKCS11_MODULE:-}" ] && args+=(-pkcs11module "$OUTPOST_SIGN_PKCS11_MODULE")
[ -n "${OUTPOST_SIGN_PASSFILE:-}" ] && args+=(-readpass "$OUTPOST_SIGN_PASSFILE")
[ -n "${OUTPOST_SIGN_TIMESTAMP_URL:-}" ] && args+=(-ts "$OUTPOST_SIGN_TIMESTAMP_URL")

tmp="$file.signing"
rm -f "$tmp"
if ! out=$(osslsigncode "${args[@]}" -in "$file" -out "$tmp" 2>&1); then
  rm -f "$tmp"
  echo "$out" >&2
  echo "sign.sh: signing $file failed" >&2
  exit 1
fi
mv -f "$tmp" "$file"
