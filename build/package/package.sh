#!/usr/bin/env bash
# package.sh: builds every Outpost installer into build/bin/ (`make package`).
#
#   Windows  outpost-<v>-windows-amd64-setup.exe   NSIS, per-machine, silent /S
#            outpost-<v>-windows-amd64.msi         wixl (Intune/GPO)
#            outpost-<v>-windows-amd64.exe         the bare app (portable use)
#   Linux    outpost_<v>_amd64.deb, outpost-<v>-1.x86_64.rpm          the app
#            outpost-server_<v>_amd64.deb, outpost-server-<v>-1.x86_64.rpm
#            apt/                                   a signed apt repository
#   SHA256SUMS
#
# Signing, all optional; without it the artifacts carry "-unsigned" in their
# names and the script says so:
#   OUTPOST_SIGN_CERT      Authenticode certificate chain: a PEM file (or its
#                          PEM text), or a .pfx/.p12 file holding key and chain
#   OUTPOST_SIGN_KEY       its private key: a PEM file (or PEM text); with a
#                          PKCS#11 token, its pkcs11: URI
#   OUTPOST_SIGN_PASSWORD  the key's (or .pfx's) password
#   OUTPOST_SIGN_PKCS11_MODULE  the token's PKCS#11 module (EV certificates)
#   OUTPOST_SIGN_TIMESTAMP_URL  an RFC 3161 time-stamping server (recommended:
#                          signatures then outlive the certificate)
#   OUTPOST_GPG_KEY        an ASCII-armored OpenPGP secret key (file or text)
#                          that signs the .deb/.rpm files and the apt repository
#   OUTPOST_GPG_PASSPHRASE its passphrase
#
# WEBVIEW2_INSTALLER   the Microsoft Edge WebView2 Evergreen Standalone
#                      Installer (MicrosoftEdgeWebView2RuntimeInstallerX64.exe,
#                      only Microsoft serves it): embedded into the NSIS
#                      installer and the MSI, run silently when the runtime is
#                      missing. Without it nothing is downloaded at install or
#                      start; the app names what IT must install.
#
# PACKAGE_TARGETS selects parts ("windows linux", the default). VERSION
# overrides `git describe`. Secrets are never written outside a private
# temporary folder, nor put on a command line.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export GOFLAGS="${GOFLAGS:--mod=mod}"
TARGETS=" ${PACKAGE_TARGETS:-windows linux} "
OUT=$ROOT/build/bin
STAGE=$OUT/.stage
START=$SECONDS

say() { echo "package: $*" >&2; }
die() { echo "package: error: $*" >&2; exit 1; }

PRIV=$(mktemp -d)
chmod 700 "$PRIV"
trap 'rm -rf "$PRIV"' EXIT

# run LABEL CMD…: runs a step quietly, showing its output only if it fails.
run() {
  local label=$1 log="$PRIV/log"
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    die "$label failed"
  fi
}

# ---- versions -------------------------------------------------------------
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
# Package managers and Windows need numbers: v1.2.3-4-gabc1234(-dirty) gives
# 1.2.3+4.gabc1234(.dirty) and 1.2.3.4; an untagged tree 0.0.0+git.N.gHASH.
if [[ $VERSION =~ ^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-([0-9]+)-g([0-9a-f]+))?(-dirty)?$ ]]; then
  base="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  n="${BASH_REMATCH[5]:-0}"
  PKG_VERSION=$base
  [ -n "${BASH_REMATCH[6]}" ] && PKG_VERSION+="+${n}.g${BASH_REMATCH[6]}"
  VERSION4="$base.$n"
  # MSI compares only three fields: the commit count joins the third.
  MSI_VERSION="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] * 1000 + n))"
else
  n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
  if [[ $VERSION =~ ^([0-9a-f]{7,40})(-dirty)?$ ]]; then
    hash=${BASH_REMATCH[1]}
  else
    hash=$(git rev-parse --short HEAD 2>/dev/null || echo 0)
  fi
  PKG_VERSION="0.0.0+git.$n.g$hash"
  VERSION4="0.0.0.$n"
  MSI_VERSION="0.0.$n"
fi
[[ $VERSION == *-dirty ]] && [[ $PKG_VERSION != *dirty ]] && PKG_VERSION+=".dirty"
export OUTPOST_PKG_VERSION=$PKG_VERSION
LDFLAGS="-s -w -X main.version=$VERSION"
say "version $VERSION (packages $PKG_VERSION, Windows $VERSION4)"

# ---- secrets --------------------------------------------------------------
# secret_file VALUE NAME: VALUE itself if it is a file, else its text written
# to a private file; prints the path.
secret_file() {
  if [ -f "$1" ]; then
    printf '%s\n' "$1"
  else
    printf '%s\n' "$1" >"$PRIV/$2"
    printf '%s\n' "$PRIV/$2"
  fi
}

WIN_SIGNED=false
if [ -n "${OUTPOST_SIGN_CERT:-}" ]; then
  [ -n "${OUTPOST_SIGN_KEY:-}" ] || [[ ${OUTPOST_SIGN_CERT} == *.pfx || ${OUTPOST_SIGN_CERT} == *.p12 ]] ||
    die "OUTPOST_SIGN_CERT is set but OUTPOST_SIGN_KEY is not"
  OUTPOST_SIGN_CERT=$(secret_file "$OUTPOST_SIGN_CERT" sign-cert.pem)
  if [ -n "${OUTPOST_SIGN_KEY:-}" ] && [[ $OUTPOST_SIGN_KEY != pkcs11:* ]]; then
    OUTPOST_SIGN_KEY=$(secret_file "$OUTPOST_SIGN_KEY" sign-key.pem)
  fi
  if [ -n "${OUTPOST_SIGN_PASSWORD:-}" ]; then
    printf '%s' "$OUTPOST_SIGN_PASSWORD" >"$PRIV/sign-pass"
    export OUTPOST_SIGN_PASSFILE=$PRIV/sign-pass
  fi
  export OUTPOST_SIGN_CERT OUTPOST_SIGN_KEY
  unset OUTPOST_SIGN_PASSWORD
  WIN_SIGNED=true
  say "Windows artifacts will be Authenticode-signed"
else
  say "OUTPOST_SIGN_CERT/OUTPOST_SIGN_KEY not set: Windows artifacts are UNSIGNED (named *-unsigned*)"
fi

GPG_SIGNED=false
export OUTPOST_GPG_KEY_FILE=""
if [ -n "${OUTPOST_GPG_KEY:-}" ]; then
  OUTPOST_GPG_KEY_FILE=$(secret_file "$OUTPOST_GPG_KEY" gpg-key.asc)
  export GNUPGHOME=$PRIV/gnupg
  mkdir -m 700 "$GNUPGHOME"
  gpg_pass=()
  if [ -n "${OUTPOST_GPG_PASSPHRASE:-}" ]; then
    printf '%s' "$OUTPOST_GPG_PASSPHRASE" >"$PRIV/gpg-pass"
    gpg_pass=(--pinentry-mode loopback --passphrase-file "$PRIV/gpg-pass")
    export NFPM_PASSPHRASE=$OUTPOST_GPG_PASSPHRASE # read by nfpm, not on a command line
  fi
  run "import the GPG key" gpg --batch --import "$OUTPOST_GPG_KEY_FILE"
  GPG_FPR=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
  [ -n "$GPG_FPR" ] || die "OUTPOST_GPG_KEY holds no secret key"
  GPG_SIGNED=true
  say "Linux packages and the apt repository will be signed with GPG key $GPG_FPR"
else
  say "OUTPOST_GPG_KEY not set: .deb/.rpm are UNSIGNED (named *-unsigned*) and no apt repository is built"
fi
unset OUTPOST_GPG_PASSPHRASE

# ---- build ----------------------------------------------------------------
# Artifacts of an earlier run go first (the plain binaries of `make build` stay).
rm -rf "$STAGE" "$OUT/apt"
rm -f "$OUT"/outpost-*-windows-amd64* "$OUT"/outpost_*.deb "$OUT"/outpost-server_*.deb "$OUT"/outpost*.rpm \
  "$OUT/SHA256SUMS"
mkdir -p "$STAGE/linux" "$STAGE/windows"
ARTIFACTS=()

build_frontend() {
  (
    cd frontend
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    npm run build
  )
}
run "frontend build" build_frontend

# The pinned tools (go.mod's tool lines) are built with the host's compiler
# first: the cross-compiler variables below would otherwise apply to them.
WAILS=$PRIV/wails NFPM=$PRIV/nfpm
run "go build the wails and nfpm tools" go build -o "$PRIV/" github.com/wailsapp/wails/v2/cmd/wails \
  github.com/goreleaser/nfpm/v2/cmd/nfpm

if [[ $TARGETS == *" windows "* ]]; then
  suffix=""
  $WIN_SIGNED || suffix="-unsigned"
  sign() { "$ROOT/build/package/sign.sh" "$1"; }
  export CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
  # -nsis also generates build/windows/installer/wails_tools.nsh and the
  # WebView2 bootstrapper; its own installer is replaced below.
  # -webview2 error: a missing runtime is never downloaded at start; the app
  # shows and logs main.go's sentence for IT instead.
  run "wails build (windows/amd64)" "$WAILS" build -s -skipbindings -trimpath -platform windows/amd64 -nsis -webview2 error \
    -ldflags "$LDFLAGS" -o outpost.exe
  mv "$OUT/outpost.exe" "$STAGE/windows/outpost.exe"
  rm -f "$OUT"/Outpost-amd64-installer.exe
  run "go build outpost-recover.exe" env GOOS=windows GOARCH=amd64 go build -trimpath -ldflags "$LDFLAGS" \
    -o "$STAGE/windows/outpost-recover.exe" ./backend/cmd/outpost-recover
  unset CGO_ENABLED CC CXX
  run "go build outpost-config.exe" env GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath \
    -ldflags "$LDFLAGS" -o "$STAGE/windows/outpost-config.exe" ./backend/config/cmd/outpost-config
  if $WIN_SIGNED; then
    for f in outpost.exe outpost-recover.exe outpost-config.exe; do
      run "sign $f" sign "$STAGE/windows/$f"
    done
  fi
  cp "$STAGE/windows/outpost.exe" "$OUT/outpost-$PKG_VERSION-windows-amd64$suffix.exe"
  ARTIFACTS+=("outpost-$PKG_VERSION-windows-amd64$suffix.exe")

  setup="outpost-$PKG_VERSION-windows-amd64-setup$suffix.exe"
  nsis_args=(-V2 -WX -DARG_WAILS_AMD64_BINARY="$STAGE/windows/outpost.exe"
    -DOUTPOST_RECOVER_BINARY="$STAGE/windows/outpost-recover.exe"
    -DOUTPOST_CONFIG_BINARY="$STAGE/windows/outpost-config.exe"
    -DOUTPOST_VERSION="$VERSION" -DOUTPOST_VERSION4="$VERSION4" -DOUTPOST_OUTFILE="$OUT/$setup")
  $WIN_SIGNED && nsis_args+=(-DOUTPOST_SIGN_CMD="$ROOT/build/package/sign.sh")
  if [ -n "${WEBVIEW2_INSTALLER:-}" ]; then
    [ -f "$WEBVIEW2_INSTALLER" ] || die "WEBVIEW2_INSTALLER=$WEBVIEW2_INSTALLER is not a file"
    WEBVIEW2_INSTALLER=$(realpath "$WEBVIEW2_INSTALLER")
    nsis_args+=(-DOUTPOST_WEBVIEW2_INSTALLER="$WEBVIEW2_INSTALLER")
    say "WebView2: embedding $(basename "$WEBVIEW2_INSTALLER") in the installer and the MSI"
  else
    say "WEBVIEW2_INSTALLER not set: the installers do not carry WebView2 (the app names what IT must install)"
  fi
  rm -f "$OUT/$setup"
  (cd build/windows/installer && run "makensis" makensis "${nsis_args[@]}" project.nsi)
  ARTIFACTS+=("$setup")

  msi="outpost-$PKG_VERSION-windows-amd64$suffix.msi"
  cp build/windows/icon.ico "$STAGE/windows/icon.ico"
  # The WebView2 parts of the MSI only with an installer to carry (wixl's
  # preprocessor cannot condition them).
  if [ -n "${WEBVIEW2_INSTALLER:-}" ]; then
    cp "$WEBVIEW2_INSTALLER" "$STAGE/windows/MicrosoftEdgeWebView2Setup.exe"
    cp build/windows/msi/outpost.wxs "$STAGE/windows/outpost.wxs"
  else
    sed '/<!-- webview2 -->/,/<!-- \/webview2 -->/d' build/windows/msi/outpost.wxs >"$STAGE/windows/outpost.wxs"
  fi
  # wixl takes sources relative to the working folder.
  (cd "$STAGE/windows" && run "wixl (MSI)" wixl --arch x64 -D Version="$MSI_VERSION" -o "$OUT/$msi" outpost.wxs)
  $WIN_SIGNED && run "sign the MSI" sign "$OUT/$msi"
  ARTIFACTS+=("$msi")
fi

if [[ $TARGETS == *" linux "* ]]; then
  run "go build outpost (linux)" go build -trimpath -tags desktop,production,webkit2_41 -ldflags "$LDFLAGS" \
    -o "$STAGE/linux/outpost" .
  run "go build outpost-recover (linux)" go build -trimpath -ldflags "$LDFLAGS" \
    -o "$STAGE/linux/outpost-recover" ./backend/cmd/outpost-recover
  run "go build outpost-config (linux)" env CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" \
    -o "$STAGE/linux/outpost-config" ./backend/config/cmd/outpost-config
  run "go build outpost-server (linux)" go build -trimpath -ldflags "$LDFLAGS" \
    -o "$STAGE/linux/outpost-server" ./backend/cmd/outpost-server
  for s in 16 32 48 64 128 256 512; do
    mkdir -p "$STAGE/linux/icons/${s}x$s"
    run "icon ${s}x$s" convert build/appicon.png -resize "${s}x$s" "$STAGE/linux/icons/${s}x$s/outpost.png"
  done

  export OUTPOST_BIN=$STAGE OUTPOST_DOC=$ROOT/docs
  suffix=""
  $GPG_SIGNED || suffix="-unsigned"
  for pkg in outpost outpost-server; do
    for fmt in deb rpm; do
      if [ "$fmt" = deb ]; then
        dest="${pkg}_${PKG_VERSION}-1_amd64$suffix.deb"
      else
        dest="$pkg-$PKG_VERSION-1.x86_64$suffix.rpm"
      fi
      rm -f "$OUT/$dest"
      run "nfpm $dest" "$NFPM" package --config "build/linux/$pkg/nfpm.yaml" --packager "$fmt" --target "$OUT/$dest"
      ARTIFACTS+=("$dest")
    done
  done

  if $GPG_SIGNED; then
    repo=$OUT/apt
    rm -rf "$repo" "$PRIV/reprepro"
    mkdir -p "$repo" "$PRIV/reprepro/conf"
    cat >"$PRIV/reprepro/conf/distributions" <<EOF
Origin: Outpost
Label: Outpost
Codename: stable
Suite: stable
Architectures: amd64
Components: main
Description: Outpost desktop app and sync server
EOF
    for f in "${ARTIFACTS[@]}"; do
      [[ $f == *.deb ]] || continue
      run "reprepro includedeb $f" reprepro --silent --basedir "$PRIV/reprepro" --outdir "$repo" includedeb stable "$OUT/$f"
    done
    # Signed here rather than by reprepro, so a passphrase works without an agent prompt.
    rel=$repo/dists/stable
    run "sign InRelease" gpg --batch --yes "${gpg_pass[@]}" --local-user "$GPG_FPR" --digest-algo SHA512 \
      --clearsign --output "$rel/InRelease" "$rel/Release"
    run "sign Release.gpg" gpg --batch --yes "${gpg_pass[@]}" --local-user "$GPG_FPR" --digest-algo SHA512 \
      --armor --detach-sign --output "$rel/Release.gpg" "$rel/Release"
    gpg --batch --export "$GPG_FPR" >"$repo/outpost-archive-keyring.gpg"
    gpg --batch --armor --export "$GPG_FPR" >"$repo/outpost-archive-keyring.asc"
    cat >"$repo/outpost.sources" <<'EOF'
# /etc/apt/sources.list.d/outpost.sources; put the key beside it:
#   install -m 0644 outpost-archive-keyring.gpg /etc/apt/keyrings/
# and replace the URI with where IT serves this folder.
Types: deb
URIs: https://packages.example.com/outpost/apt
Suites: stable
Components: main
Architectures: amd64
Signed-By: /etc/apt/keyrings/outpost-archive-keyring.gpg
EOF
    ARTIFACTS+=("apt/")
  fi
fi

rm -rf "$STAGE"
(cd "$OUT" && for f in "${ARTIFACTS[@]}"; do [[ $f == */ ]] || echo "$f"; done | xargs -r sha256sum >SHA256SUMS)
say "done in $((SECONDS - START)) s; in build/bin:"
(cd "$OUT" && for f in "${ARTIFACTS[@]}"; do du -sh --apparent-size "$f"; done) | sed 's/^/  /' >&2
