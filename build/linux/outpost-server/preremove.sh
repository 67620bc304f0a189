#!/bin/sh
# preremove of outpost-server (.deb: "remove" or "upgrade"; .rpm: 0 on
# removal, 1 on upgrade). Stops and disables the service on removal only;
# an upgrade restarts it in postinstall.
set -e
case "${1:-}" in
  remove|0) ;;
  *) exit 0 ;;
esac
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl disable --now outpost-server.service >/dev/null 2>&1 || true
fi
exit 0
