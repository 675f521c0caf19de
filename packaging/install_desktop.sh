#!/usr/bin/env bash
# Install LabelFix into the current user's desktop: the menu entry, the icon at every size, the
# .labelfix file type, and a `labelfix` command (a link to the bundle's executable).
#
# Usage: packaging/install_desktop.sh [BUNDLE_DIR]   (default: dist/labelfix)
# Targets: $XDG_DATA_HOME (default ~/.local/share) and ~/.local/bin; DATA_HOME and BIN_DIR
# override them. ~/.local/bin must be on PATH for the entry's `Exec=labelfix %f`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bundle="$(realpath "${1:-$root/dist/labelfix}")"
data="${DATA_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}}"
bin="${BIN_DIR:-$HOME/.local/bin}"

if [ ! -x "$bundle/labelfix" ]; then
  echo "install_desktop: no bundle at $bundle (run packaging/build.sh first)" >&2
  exit 1
fi
mkdir -p "$bin" "$data/applications" "$data/mime/packages" "$data/icons/hicolor/scalable/apps"
ln -sfn "$bundle/labelfix" "$bin/labelfix"
for size in 16 32 48 64 128 256 512; do
  mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
  cp "$root/resources/icons/labelfix-$size.png" "$data/icons/hicolor/${size}x${size}/apps/labelfix.png"
done
cp "$root/resources/icons/labelfix.svg" "$data/icons/hicolor/scalable/apps/labelfix.svg"
cp "$here/labelfix.desktop" "$data/applications/labelfix.desktop"
cp "$here/labelfix-mime.xml" "$data/mime/packages/labelfix.xml"

# Refresh the caches when the tools are there (a desktop session picks the files up anyway).
if command -v update-mime-database >/dev/null; then update-mime-database "$data/mime"; fi
if command -v update-desktop-database >/dev/null; then
  update-desktop-database "$data/applications"
fi
if command -v gtk-update-icon-cache >/dev/null; then
  gtk-update-icon-cache -q -t -f "$data/icons/hicolor" || true
fi
echo "installed LabelFix for $USER: $bin/labelfix -> $bundle/labelfix, menu entry, icons, .labelfix type"
