#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs sipsleuth's Wireshark configuration profile (profile/sipsleuth: colouring rules, columns,
# filter buttons, saved filters) into a user's Wireshark profiles folder, where Wireshark lists it under
# Edit > Configuration Profiles and `wireshark -C sipsleuth` / `tshark -C sipsleuth` find it.
#
#   profile/install.sh [--dest PROFILES_DIR] [--force] [--quiet]
#
# PROFILES_DIR defaults to this user's: ~/.wireshark/profiles when ~/.wireshark exists (Wireshark still
# uses that old folder then), else ${XDG_CONFIG_HOME:-~/.config}/wireshark/profiles. Safe to run every
# time: a file you changed in Wireshark since the last install (Edit > Preferences, View > Coloring
# Rules, the filter buttons' "+") is kept and named, unless --force; files Wireshark writes by itself
# (recent) are never touched. Prints one line saying what it did (nothing with --quiet unless a file
# was kept); exits 1 on an error.
set -eu
src=$(cd "$(dirname "$0")" && pwd)/sipsleuth
dest=
force=0
quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) [ $# -ge 2 ] || { echo "install.sh: --dest needs a folder" >&2; exit 1; }; dest=$2; shift 2 ;;
    --force) force=1; shift ;;
    -q|--quiet) quiet=1; shift ;;
    -h|--help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done
if [ -z "$dest" ]; then
  if [ -d "$HOME/.wireshark" ]; then
    dest=$HOME/.wireshark/profiles
  else
    dest=${XDG_CONFIG_HOME:-$HOME/.config}/wireshark/profiles
  fi
fi
target=$dest/sipsleuth
# What the previous install wrote: "<sha256>  <file>" per line, to tell our old copy from the user's edits.
stamp=$target/.sipsleuth-installed

mkdir -p "$target"
installed=0
kept=
new_stamp=
for path in "$src"/*; do
  name=$(basename "$path")
  sum=$(sha256sum "$path" | cut -d' ' -f1)
  new_stamp="$new_stamp$sum  $name
"
  if [ -f "$target/$name" ]; then
    have=$(sha256sum "$target/$name" | cut -d' ' -f1)
    [ "$have" = "$sum" ] && continue
    old=$( [ -f "$stamp" ] && awk -v n="$name" '$2 == n { print $1 }' "$stamp" || true)
    if [ "$force" -eq 0 ] && [ "$have" != "$old" ]; then
      kept="$kept $name"
      continue
    fi
  fi
  cp "$path" "$target/$name.tmp.$$"
  chmod 644 "$target/$name.tmp.$$"
  mv -f "$target/$name.tmp.$$" "$target/$name"
  installed=$((installed + 1))
done
printf '%s' "$new_stamp" > "$stamp"

if [ -n "$kept" ]; then
  echo "sipsleuth profile: kept your changed$kept in $target (--force replaces them with sipsleuth's)" >&2
fi
if [ "$quiet" -eq 0 ]; then
  if [ "$installed" -gt 0 ]; then
    echo "sipsleuth profile: installed $installed file(s) into $target; in Wireshark: Edit > Configuration Profiles > sipsleuth, or wireshark -C sipsleuth"
  elif [ -z "$kept" ]; then
    echo "sipsleuth profile: up to date in $target"
  fi
fi
