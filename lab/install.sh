#!/usr/bin/env bash
# Installs the real servers the lab and the tests use (Debian packages), without
# letting the packages start their system services. Idempotent: a package that is
# already installed is skipped.
set -euo pipefail
PKGS=(nginx libnginx-mod-http-modsecurity apache2 libapache2-mod-security2 modsecurity-crs haproxy squid caddy python3-django python3-flask python3-flaskext.wtf chromium acl clickhouse-server clickhouse-client prometheus prometheus-alertmanager apache2-utils curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "lab/install.sh: all packages present"; exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d; created_policy=1
fi
trap '[ $created_policy -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "lab/install.sh: installed ${missing[*]}"
