#!/usr/bin/env bash
# Debian packages the test suite and the PDF renderer need: Chromium for the browser tests
# (never a downloaded browser build), fonts and the Pango stack for WeasyPrint, poppler-utils
# for looking at rendered letters, and redis-server for the Celery tests when no Redis service runs
# (tests/redis_server.py starts a private one). Idempotent: installs only what is missing.
set -euo pipefail

packages=(chromium fonts-dejavu-core fonts-liberation2 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils redis-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Fehlende Debian-Pakete: ${missing[*]} (bitte als root installieren: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "Installiere Debian-Pakete: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
