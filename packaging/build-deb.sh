#!/bin/sh
# build-deb.sh OUT VENDOR [VERSION]: build dvsum-vpn_*.deb into OUT with
# dpkg-buildpackage, from a clean copy of this checkout (the sources the
# package needs, packaging/debian as debian/, the wheels from VENDOR as
# vendor/).  VERSION (e.g. 0.1.0-2) adds a changelog entry on top of the
# copy's changelog: the VM tier's upgrade test builds a newer package from
# the same source that way.  Needs no network.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
vendor=$(cd "$2" && pwd)
version=${3:-}

work=$out/src
rm -rf "$work"
src=$work/dvsum-vpn
mkdir -p "$src/vendor"
# Only what the package is built from: no .git, .venv, build output, caches.
tar -C "$repo" -cf - --exclude=__pycache__ \
    agent etc systemd packaging README.md pyproject.toml | tar -C "$src" -xf -
cp -r "$repo/packaging/debian" "$src/debian"
cp "$vendor"/*.whl "$src/vendor/"

if [ -n "$version" ]; then
  changelog=$src/debian/changelog
  {
    printf 'dvsum-vpn (%s) bookworm; urgency=medium\n\n' "$version"
    printf '  * Rebuild of the same source as %s.\n\n' "$version"
    printf ' -- %s  %s\n\n' "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' "$changelog" | head -n 1)" \
      "$(date -R)"
    cat "$changelog"
  } > "$changelog.new"
  mv "$changelog.new" "$changelog"
fi

(cd "$src" && dpkg-buildpackage -us -uc -b --no-sign) >"$work/build.log" 2>&1 || {
  tail -n 40 "$work/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; whole log in $work/build.log" >&2
  exit 1
}
deb=$(ls "$work"/dvsum-vpn_*_all.deb)
mv "$work"/dvsum-vpn_*_all.deb "$work"/dvsum-vpn_*.changes "$work"/dvsum-vpn_*.buildinfo "$out/"
echo "build-deb: $out/$(basename "$deb")"
