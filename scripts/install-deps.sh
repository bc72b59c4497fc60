#!/usr/bin/env bash
# Installs the Debian packages pgl builds and runs with. Idempotent: does nothing when all are present.
set -euo pipefail
PKGS=(
  cmake make g++ pkg-config ninja-build
  libtorch-dev libopenblas0-openmp
  libinsighttoolkit5-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgloo-dev
  libpng-dev zlib1g-dev
  libopenjp2-7-dev  # the DICOM guard decodes JPEG 2000 with the OpenJPEG that GDCM uses
  libcairo2-dev
  python3-torch  # torchrun for the data-parallel tests, and bench/'s PyTorch reference; pgl never needs it
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "pgl: missing Debian packages: ${missing[*]}" >&2
  echo "pgl: run as root:  $cmd" >&2
  exit 1
fi
echo "pgl: installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
