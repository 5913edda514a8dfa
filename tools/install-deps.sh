#!/bin/sh
# Installs the Debian 12 packages Heatlens needs to build, test and run,
# skipping those already present (apt-get through sudo when not root).
set -e
PKGS="build-essential pkg-config meson ninja-build
libgtk-4-dev libjson-glib-dev libcairo2-dev libpng-dev libjpeg62-turbo-dev
libopenblas-dev liblapacke-dev libdnnl-dev
libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata
xvfb xauth dbus dbus-x11 dbus-user-session dconf-gsettings-backend desktop-file-utils appstream"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
