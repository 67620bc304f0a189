#!/bin/sh
# postinstall of outpost-server (.deb: "configure" [old-version]; .rpm: 1 on
# install, 2 on upgrade). Creates the outpost system user, the data
# directory, and enables and starts the service on a fresh install or
# restarts it on an upgrade. Honours $DPKG_ROOT (dpkg --root).
set -e
root="${DPKG_ROOT:-}"

upgrade=false
case "${1:-}" in
  configure) [ -n "${2:-}" ] && upgrade=true ;;
  2) upgrade=true ;;
esac

prefix=""
[ -n "$root" ] && prefix="--prefix $root"
if ! grep -q '^outpost:' "$root/etc/group" 2>/dev/null && ! { [ -z "$root" ] && getent group outpost >/dev/null; }; then
  # shellcheck disable=SC2086
  groupadd --system $prefix outpost
fi
if ! grep -q '^outpost:' "$root/etc/passwd" 2>/dev/null && ! { [ -z "$root" ] && getent passwd outpost >/dev/null; }; then
  # shellcheck disable=SC2086
  useradd --system $prefix --gid outpost --home-dir /var/lib/outpost --no-create-home \
    --shell /usr/sbin/nologin --comment "Outpost sync server" outpost
fi

# Numeric ids, read from the target root: chown by name would ask the host.
uid=$(awk -F: '$1 == "outpost" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "outpost" { print $3 }' "$root/etc/group")
if [ -z "$uid" ] || [ -z "$gid" ]; then # the user comes from NSS (LDAP, …)
  uid=$(id -u outpost); gid=$(id -g outpost)
fi
mkdir -p "$root/var/lib/outpost"
chown "$uid:$gid" "$root/var/lib/outpost"
chmod 0750 "$root/var/lib/outpost"
if [ -f "$root/etc/outpost/server.env" ]; then
  chown "0:$gid" "$root/etc/outpost/server.env"
  chmod 0640 "$root/etc/outpost/server.env"
fi

# Only on a running systemd, and never into another root.
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  if $upgrade; then
    systemctl try-restart outpost-server.service >/dev/null 2>&1 || true
  else
    systemctl enable outpost-server.service >/dev/null 2>&1 || true
    systemctl start outpost-server.service || echo "outpost-server: the service did not start; see journalctl -u outpost-server" >&2
  fi
fi
exit 0
