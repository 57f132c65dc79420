#!/usr/bin/env bash
# Installs the Debian packages the test bed runs: sshd (SSH Git server), the
# distribution registry (OCI), git's http-backend and openssl, and chromium for
# the dashboard's browser tests (headless, driven by playwright-core). Package scripts
# are kept from starting services (policy-rc.d), so nothing listens on a public
# address: the test helpers start their own instances on loopback.
set -euo pipefail
PKGS="git openssl openssh-server openssh-client docker-registry ca-certificates chromium"
missing=()
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "system-deps: all present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "error: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
created=
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
trap '[ -n "$created" ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: done"
