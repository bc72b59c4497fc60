#!/usr/bin/env bash
# unpack_debs.sh DEBDIR DEST: unpack Debian packages under DEST (never into /) and point their CMake and
# pkg-config files there, for building on a machine that lacks them (scripts/gpu_check.sh).
set -euo pipefail
src=$1
D=$(mkdir -p "$2" && cd "$2" && pwd)
export D
shopt -s nullglob
debs=("$src"/*.deb)
[ ${#debs[@]} -gt 0 ] || { echo "unpack_debs.sh: no .deb files in $src" >&2; exit 1; }
for f in "${debs[@]}"; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$f" "$D"
  else  # a .deb is an ar archive holding data.tar.*
    member=$(ar t "$f" | grep '^data\.tar')
    case $member in *.xz) z=-J ;; *.zst) z=--zstd ;; *.gz) z=-z ;; *) z= ;; esac
    ar p "$f" "$member" | tar -x $z -C "$D"
  fi
done
# /usr as a whole path component (alone, or after -I/-L), never inside a longer path such as $D/usr: so a
# second run over the same folder changes nothing.
grep -rlIZ --include='*.cmake' --include='*.pc' -e '/usr' "$D" |
  xargs -0 -r perl -pi -e 's{(?:(?<![\w./+~-])|(?<=-[IL]))/usr(?=[/"\x27;) \t]|$)}{$ENV{D}/usr}g'
# Absolute symlinks (e.g. /usr/lib/.../libz.so -> /lib/.../libz.so.1) into the unpacked tree.
find "$D" -type l -lname '/*' ! -lname "$D/*" | while read -r l; do ln -sfn "$D$(readlink "$l")" "$l"; done
# The private dependencies of the .pc files (X11, fontconfig, ... for cairo) matter only for static linking
# and are not carried; pkg-config would refuse the packages without them.
find "$D" -name '*.pc' -exec sed -i '/^Requires.private/d' {} +
echo "unpacked ${#debs[@]} packages into $D"
