#!/bin/sh
# Install what the demo, the tests and CI need on a Debian 12 host, and
# create the project's virtualenv (.venv) on Debian's python3 so that the
# distribution's bindings (nftables, pyroute2, systemd, iptables) are used,
# as the packaged agent uses them.  Idempotent; run as root.
set -eu
cd "$(dirname "$0")/.."

APT_PACKAGES="
  strongswan-swanctl strongswan-charon charon-systemd libcharon-extra-plugins
  nftables iptables iproute2 dnsmasq-base nginx-light openssl curl
  netcat-openbsd tcpdump procps unbound
  python3 python3-venv python3-yaml python3-pyroute2 python3-nftables
  python3-systemd python3-iptables python3-dnspython
"

# No service may start from these packages: the lab starts its own daemons
# in namespaces.
# shellcheck disable=SC2086
./packaging/apt-ensure.sh $APT_PACKAGES

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check \
  "vici==6.0.3" "pytest>=7" "hypothesis>=6" "ruff>=0.5" "mypy>=1.8" types-PyYAML
# The agent itself, without re-resolving the distribution-provided deps.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
echo "dev-setup: ready (.venv)"
