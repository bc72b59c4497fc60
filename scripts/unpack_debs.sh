#!/bin/bash
# unpack_debs.sh DEBDIR DEST: unpack Debian packages under DEST and point their CMake and pkg-config files there.
set -eu
src=$1; D=$2
mkdir -p "$D"
for f in "$src"/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$f" "$D"
  else  # a .deb is an ar archive holding data.tar.*
    member=$(ar t "$f" | grep '^data\.tar')
    case $member in *.xz) z=-J ;; *.zst) z=--zstd ;; *.gz) z=-z ;; *) z= ;; esac
    ar p "$f" "$member" | tar -x $z -C "$D"
  fi
done
files=$(grep -rlI --include='*.cmake' --include='*.pc' -e '/usr' "$D" || true)
[ -n "$files" ] && sed -i -E "s#(^|[^/A-Za-z0-9_.-])/usr([/\"';) ]|\$)#\1$D/usr\2#g" $files
# absolute symlinks
find "$D" -type l -lname '/*' ! -lname "$D/*" | while read -r l; do ln -sfn "$D$(readlink "$l")" "$l"; done
find "$D" -name "*.pc" -exec sed -i "/^Requires.private/d" {} +
echo "unpacked $(ls "$src"/*.deb | wc -l) packages into $D"
