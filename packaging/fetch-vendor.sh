#!/bin/sh
# fetch-vendor.sh DIR: put the wheels packaging/vendor.txt names (hash-pinned)
# into DIR.  Offline when DIR already holds them; otherwise pip downloads
# them from PyPI.  The package builds that follow need no network.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
mkdir -p "$dir"

pip_download() {
  python3 -m pip download --no-deps --only-binary=:all: --require-hashes \
    --disable-pip-version-check -q -d "$dir" -r "$here/vendor.txt" "$@"
}

if pip_download --no-index --find-links "$dir" 2>/dev/null; then
  echo "fetch-vendor: wheels already in $dir"
else
  pip_download
  echo "fetch-vendor: downloaded into $dir"
fi
ls "$dir"/*.whl
