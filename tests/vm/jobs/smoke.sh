#!/bin/bash
# The VM tier's smoke job (make test-vm): runs inside the VM, as root, in a
# writable copy of the repository (tests/vm/runner.py).  Proves the tier is
# fit for the data-plane tests: systemd is PID 1, the repository is there,
# the kernel does ESP and XFRM interfaces, the image's python3 has every
# binding, and the project's lab suite passes here as it does on a host.
set -euo pipefail

step() { echo "== smoke: $*"; }

step "kernel $(uname -r), $(python3 --version)," \
  "strongSwan $(dpkg-query -W -f='${Version}' strongswan-charon)"

step "systemd is PID 1"
test "$(cat /proc/1/comm)" = systemd
systemctl is-system-running || true   # "running" or "degraded", not "starting"

step "the repository is visible (read-only share and writable copy)"
test -f "$DVSUM_VM_REPO/README.md" && test -f "$DVSUM_VM_REPO/agent/__init__.py"
test -f "$DVSUM_VM_WORKTREE/agent/__init__.py" && test "$PWD" = "$DVSUM_VM_WORKTREE"
if touch "$DVSUM_VM_REPO/.vm-write-test" 2>/dev/null; then
  rm -f "$DVSUM_VM_REPO/.vm-write-test"
  echo "the repository share is writable: it must be read-only" >&2
  exit 1
fi

step "XFRM interface (ip link add x type xfrm dev lo if_id 7)"
ip link add smoke-xfrm type xfrm dev lo if_id 7
ip -d link show smoke-xfrm | grep -q 'xfrm if_id 0x7'
ip link del smoke-xfrm

step "kernel ESP: an ESP-in-UDP tunnel SA with aes128/sha1 bound to if_id 7"
ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 \
  reqid 7 mode tunnel if_id 7 encap espinudp 4500 4500 0.0.0.0 \
  enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f \
  auth-trunc 'hmac(sha1)' 0x000102030405060708090a0b0c0d0e0f10111213 96
ip xfrm state get src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 \
  | tee /dev/stderr | grep -q 'if_id 0x7'
ip xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000
grep -qw '^esp4' /proc/modules

step "the image's python3 has the agent's and the tests' bindings"
python3 -c 'import vici, pyroute2, nftables, yaml, systemd.journal, iptc, dns.resolver, pytest, hypothesis'

step "route-based mode in the lab, kernel ESP + XFRM interfaces (tests/vmguest)"
# The host tier runs tests/lab (policy mode over kernel-libipsec); here the
# agent runs the mode this kernel selects: route-based.
DVSUM_LAB_DATA_PLANE=route python3 -m pytest tests/vmguest -v -rP -W error
