#!/bin/sh
# postremove of outpost-server. The database in /var/lib/outpost and the
# outpost user are kept, even on purge: a sync server's data is never
# deleted by a package manager. Remove them by hand when you mean it.
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "${1:-}" = "purge" ] && [ -d "${DPKG_ROOT:-}/var/lib/outpost" ]; then
  echo "outpost-server: kept the data in /var/lib/outpost (and the user outpost); remove them by hand if you mean to" >&2
fi
exit 0
