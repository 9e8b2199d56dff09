#!/bin/sh
# build-rpm.sh OUT VENDOR: build dvsum-vpn-*.noarch.rpm and the source RPM
# into OUT with rpmbuild, from a tarball of this checkout (only the files
# the package is built from) and the vici wheel in VENDOR.  Needs no network.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
vendor=$(cd "$2" && pwd)
spec=$repo/packaging/rpm/dvsum-vpn.spec

version=$(sed -n 's/^Version: *//p' "$spec")
upstream=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/agent/__init__.py")
if [ "$version" != "$upstream" ]; then
  echo "build-rpm: the spec says $version, agent/__init__.py $upstream" >&2
  exit 1
fi

top=$out/rpmbuild
rm -rf "$top"
mkdir -p "$top/SOURCES" "$top/SPECS"
# --dereference: etc/config.example.yaml is a symbolic link in the tree.
tar -C "$repo" --dereference --exclude=__pycache__ \
    --transform "s,^,dvsum-vpn-$version/," -czf "$top/SOURCES/dvsum-vpn-$version.tar.gz" \
    agent etc systemd packaging README.md pyproject.toml
cp "$vendor"/vici-*.whl "$top/SOURCES/"
cp "$spec" "$top/SPECS/"

# --nodeps: on a Debian host the RPM database is empty, so BuildRequires
# (python3) cannot be seen; on an RPM distribution drop it.
nodeps=
[ -e /etc/debian_version ] && nodeps=--nodeps
rpmbuild $nodeps --define "_topdir $top" -ba "$top/SPECS/dvsum-vpn.spec" \
    >"$top/build.log" 2>&1 || {
  tail -n 40 "$top/build.log" >&2
  echo "build-rpm: rpmbuild failed; whole log in $top/build.log" >&2
  exit 1
}
cp "$top"/RPMS/noarch/dvsum-vpn-*.noarch.rpm "$top"/SRPMS/dvsum-vpn-*.src.rpm "$out/"
ls "$out"/dvsum-vpn-*.rpm
