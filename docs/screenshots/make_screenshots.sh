#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The screenshots of docs/images: Wireshark's GUI with our plugins under Xvfb, as an unprivileged
# user, driven by docs/screenshots/gui.py (see there for what each picture shows).
#
#   docs/screenshots/make_screenshots.sh [--plugin-dir DIR] [--out DIR] [--only profile]
#                                        # make the PNGs (--only profile: those with the profile)
#   docs/screenshots/make_screenshots.sh --check [--plugin-dir DIR] [--out DIR] [--profile] CAPTURE...
#                                        # open each capture (--profile: with the sipsleuth profile);
#                                        # exit 1 on an error dialog, a wrong window title or plugins
#                                        # not loaded; --out: screenshots
#
# Installs what it misses from Debian (as root; otherwise prints the apt-get line). Without
# --plugin-dir it builds the plugin into build/ (CMake, target sipsleuth) and uses build/plugins.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

mode=shots
plugin_dir=
out=
extra=
while [ $# -gt 0 ]; do
  case "$1" in
    --check) mode=check; shift ;;
    --plugin-dir) plugin_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) extra="$extra --only $2"; shift 2 ;;
    --profile) extra="$extra --profile"; shift ;;
    -h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done

# Debian packages: the X server, the GUI, xdotool, ImageMagick, a font; to build, what ./sipsleuth
# analyze needs.
need="xvfb wireshark-qt tshark xdotool imagemagick fonts-dejavu-core"
[ -n "$plugin_dir" ] || need="$need cmake make g++ pkg-config libwireshark-dev libwiretap-dev libglib2.0-dev libpugixml-dev"
missing=
for pkg in $need; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  line="apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "make_screenshots: missing Debian packages; ask an administrator for: sudo $line" >&2
    exit 1
  fi
  echo "make_screenshots: installing$missing" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $line >/dev/null
fi

if [ -z "$plugin_dir" ]; then
  plugin_dir=$root/build/plugins
  if [ ! -f "$root/build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIPSLEUTH_TESTS=OFF >/dev/null
  fi
  nice cmake --build "$root/build" -j2 --target sipsleuth >/dev/null
fi

if [ "$mode" = check ]; then
  exec /usr/bin/python3 "$here/gui.py" check --plugin-dir "$plugin_dir" ${out:+--out "$out"} $extra "$@"
fi
exec /usr/bin/python3 "$here/gui.py" shots --plugin-dir "$plugin_dir" ${out:+--out "$out"} $extra "$@"
