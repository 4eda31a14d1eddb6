#!/bin/sh
# Installs what the report needs beyond npm packages, when missing (Debian/Ubuntu, apt):
#   chromium          the headless browser of test/report-browser.test.ts (/usr/bin/chromium)
#   fonts-dejavu-core a font for the text of the PNG figures (resvg draws with system fonts)
# Usage: scripts/ensure-chromium.sh   (as root, or with sudo available)
set -eu
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need="$need fonts-dejavu-core"
if [ -z "$need" ]; then
  echo "ensure-chromium: chromium and fonts present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "ensure-chromium: installing$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
