#!/bin/bash
# The package tier's VM job (packaging/test-package.sh): runs inside the VM,
# as root, on a clean Debian 12 root with no network.  The host built two
# .debs of the same source into the repository share:
#   build/packages/dvsum-vpn_*.deb           the package under test
#   build/packages/upgrade/dvsum-vpn_*.deb   the same source, newer version
# An operator's story, against the lab (tests/lab) in namespaces dvp-*:
#   apt install ./dvsum-vpn_*.deb   (offline: every dependency is in the image)
#   the service neither enabled nor started before config.yaml exists
#   dvsum-vpn import, config check, systemctl enable --now dvsum-vpn
#   both tunnels up, the health check through them, status and journal
#   apt install of the newer build while probing: lost probes counted
#   apt purge: tunnels down, and no file, route, link, rule or hosts line left
# The customer side is the distribution's own strongswan.service and the
# packaged dvsum-vpn.service, each moved into the lab's gateway namespace by
# a drop-in (NetworkNamespacePath=); every path the agent uses is the
# default one, so the unit's sandbox is tested as shipped.
set -euo pipefail

PREFIX=dvp-
LAB_ROOT=/run/dvp-lab
NS=${PREFIX}cgw
PACKAGES=$DVSUM_VM_REPO/build/packages
SERVICE_IP=10.0.151.182
WORK=$(mktemp -d /var/tmp/dvp-package.XXXXXX)
declare -A TOOK

step() { echo "== package: $*"; }
fail() { echo "== package: FAILED: $*" >&2; exit 1; }
# The gateway's network namespace only: `ip netns exec` would also bind
# /etc/netns/$NS/hosts over /etc/hosts, and the agent edits the real one.
in_cgw() { nsenter --net="/run/netns/$NS" "$@"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
timed() {  # timed NAME COMMAND...: run it, remember its wall time
  local name=$1 start
  shift
  start=$(date +%s.%N)
  "$@"
  TOOK[$name]=$(elapsed "$start")
  printf '== package: %s took %.1f s\n' "$name" "${TOOK[$name]}"
}

cleanup() {
  set +e
  [ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null
  systemctl stop dvsum-vpn.service strongswan.service 2>/dev/null
  if dpkg-query -W -f='${Status}' dvsum-vpn 2>/dev/null | grep -q installed; then
    apt-get purge -y -qq dvsum-vpn >/dev/null 2>&1
  fi
  rm -rf /etc/systemd/system/dvsum-vpn.service.d \
         /etc/systemd/system/strongswan.service.d
  systemctl daemon-reload
  python3 -m tests.lab down --root "$LAB_ROOT" --prefix "$PREFIX" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# Everything a package could leave behind: files outside the volatile
# places, plus /run; /etc/hosts byte for byte; the gateway's network state.
snapshot() {
  local out=$1
  {
    find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp \
      -o -path /var/tmp -o -path /root -o -path /srv -o -path /var/log \
      -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg \
      -o -path /var/lib/systemd/timers -o -path /var/lib/systemd/random-seed \
      \) -prune -o -print
    find /run -xdev \( -path /run/systemd -o -path /run/udev -o -path /run/log \
      -o -path /run/user -o -path /run/netns -o -path "$LAB_ROOT" \
      -o -path /run/dbus -o -path /run/lock \) -prune -o -print
    dpkg-query -W -f='dpkg ${Package}\n' | grep -x 'dpkg dvsum-vpn' || true
    echo "hosts $(sha256sum < /etc/hosts)"
  } | sort > "$out.files"
  {
    in_cgw ip -o link show | awk '{print $2}' | grep -v '^ipsec\|^lo' || true
    in_cgw ip route show table all | grep -v ' proto kernel ' || true
    in_cgw ip xfrm state | grep '^src' || true
    in_cgw nft list tables
  } | sort > "$out.net"
}

expect_unchanged() {  # expect_unchanged BEFORE AFTER WHAT
  if ! diff -u "$1" "$2"; then
    fail "$3 differs (- before install, + after purge)"
  fi
}

wait_established() {  # until `dvsum-vpn status` says both tunnels carry
  local deadline=$((SECONDS + $1))
  until in_cgw dvsum-vpn status >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { in_cgw dvsum-vpn status || true; return 1; }
    sleep 2
  done
}

health_check() {
  in_cgw curl -sS --max-time 10 --cacert "$LAB_ROOT/ca.pem" \
    --resolve "apis.dvsum.ai:443:$SERVICE_IP" https://apis.dvsum.ai/health-check
  echo
}

# TCP connects to the service every 100 ms from the gateway until $1 exists;
# prints "sent lost".
cat > "$WORK/probe.py" <<'EOF'
import os, socket, sys, time
stop, sent, lost = sys.argv[1], 0, 0
while not os.path.exists(stop):
    start = time.monotonic()
    sent += 1
    try:
        socket.create_connection((sys.argv[2], 443), timeout=0.5).close()
    except OSError:
        lost += 1
    time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))
print(sent, lost)
EOF

step "$(uname -r), strongSwan $(dpkg-query -W -f='${Version}' charon-systemd)"
ls -l "$PACKAGES"/dvsum-vpn_*.deb "$PACKAGES"/upgrade/dvsum-vpn_*.deb
mkdir -p "$WORK/v1" "$WORK/v2"
cp "$PACKAGES"/dvsum-vpn_*.deb "$WORK/v1/"
cp "$PACKAGES"/upgrade/dvsum-vpn_*.deb "$WORK/v2/"

step "the lab: AWS side, NAT and landing zone in namespaces ${PREFIX}*"
python3 -m tests.lab up --root "$LAB_ROOT" --prefix "$PREFIX"

step "strongswan.service and dvsum-vpn.service run in $NS (test drop-ins)"
for unit in strongswan dvsum-vpn; do
  mkdir -p "/etc/systemd/system/$unit.service.d"
  printf '# The package tier: run in the lab gateway namespace.\n[Service]\nNetworkNamespacePath=/run/netns/%s\n' \
    "$NS" > "/etc/systemd/system/$unit.service.d/dvp-lab.conf"
done
systemctl daemon-reload
systemctl start strongswan.service
snapshot "$WORK/before"

step "apt install ./dvsum-vpn_*.deb (offline)"
cd "$WORK/v1"
timed install env DEBIAN_FRONTEND=noninteractive apt-get install -y ./dvsum-vpn_*.deb
cd - >/dev/null
dpkg-query -W dvsum-vpn
test -x /usr/bin/dvsum-vpn && dvsum-vpn --version
test -f /etc/dvsum-vpn/config.example.yaml
grep -qx /etc/dvsum-vpn/config.example.yaml /var/lib/dpkg/info/dvsum-vpn.conffiles \
  || fail "config.example.yaml is not a conffile"
test ! -e /usr/lib/python3/dist-packages/vici || fail "vici in system site-packages"
ls /usr/lib/dvsum-vpn

step "installed, not configured: not enabled, not started, a start is skipped"
state=$(systemctl is-enabled dvsum-vpn.service || true)
[ "$state" = disabled ] || fail "is-enabled says $state after install"
! systemctl is-active --quiet dvsum-vpn.service || fail "active after install"
systemctl start dvsum-vpn.service
[ "$(systemctl show -p ConditionResult --value dvsum-vpn.service)" = no ] \
  || fail "started without /etc/dvsum-vpn/config.yaml"
systemctl status dvsum-vpn.service --no-pager || true

step "systemd-analyze verify and security (the unit as installed)"
# --man=no: the image carries no man pages (dpkg path-exclude).
systemd-analyze verify --man=no /lib/systemd/system/dvsum-vpn.service
echo "systemd-analyze verify: no complaint"
# --offline: the file as shipped, without this test's namespace drop-in.
systemd-analyze security --offline=yes /lib/systemd/system/dvsum-vpn.service \
  --no-pager | tail -n 1

step "configure: import the lab's AWS file and PSKs, then config.yaml"
start_configure=$(date +%s.%N)
dvsum-vpn import "$LAB_ROOT/aws-vpn.xml" --psk-file "$LAB_ROOT/psk.txt" \
  --customer-cidr 192.168.10.0/24
# What the operator edits: the lab's addresses; everything else (paths, the
# VICI socket) stays as the example has it.
python3 - "$LAB_ROOT/config.yaml" <<'EOF'
import sys, yaml
lab = yaml.safe_load(open(sys.argv[1]))
path = "/etc/dvsum-vpn/config.yaml"
config = yaml.safe_load(open(path))
for key in ("customer_cidr", "landing_zone", "primary"):
    config[key] = lab[key]
config["dns"]["names"] = lab["dns"]["names"]
config["data_plane"] = "route"
with open(path, "w") as out:
    out.write("# The package tier: the example, pointed at the lab.\n")
    yaml.safe_dump(config, out, sort_keys=False)
EOF
dvsum-vpn config check
systemctl restart strongswan.service   # once: loads the agent's drop-in

step "systemctl enable --now dvsum-vpn"
timed enable_now systemctl enable --now dvsum-vpn.service
timed established wait_established 120 || fail "tunnels not established"
TOOK[configure]=$(elapsed "$start_configure")
in_cgw dvsum-vpn status
in_cgw ip route get "$SERVICE_IP" | grep -q ' dev dvsum[12] ' || fail "no route via dvsum1/2"
health_check | grep -q '"status":"OK"' || fail "health check through the tunnel"
grep -q '^# BEGIN dvsum-vpn' /etc/hosts || fail "no hosts block"

step "the command uses its own vici (the image's copy hidden)"
in_cgw unshare --mount sh -c '
  mount -t tmpfs none /usr/local/lib/python3.11/dist-packages &&
  python3 -c "import vici" 2>/dev/null && exit 1
  dvsum-vpn status >/dev/null'

step "systemctl status dvsum-vpn"
systemctl status dvsum-vpn.service --no-pager || true
systemctl is-active --quiet dvsum-vpn.service || fail "dvsum-vpn.service not active"
if [ "$(systemctl show -p Type --value dvsum-vpn.service)" = notify ]; then
  status=$(systemctl show -p StatusText --value dvsum-vpn.service)
  echo "status line: $status"
  [ -n "$status" ] || fail "no status line (STATUS=) from the agent"
fi

step "journalctl -u dvsum-vpn (the startup story)"
journalctl -u dvsum-vpn.service -b --no-pager -o short-monotonic | tee "$WORK/journal"
[ "$(grep -c . "$WORK/journal")" -ge 3 ] || fail "the journal tells no story"
grep -q 'dvsum-tunnel1\|tunnel 1\|tunnel1' "$WORK/journal" || fail "journal names no tunnel"
while read -r _ key; do
  if grep -qF "$key" "$WORK/journal"; then fail "a PSK reached the journal"; fi
done < "$LAB_ROOT/psk.txt"

step "upgrade to $(basename "$WORK"/v2/*.deb) while probing every 100 ms"
# The operator's edit of the example (a conffile) must survive the upgrade.
echo "# edited by the operator" >> /etc/dvsum-vpn/config.example.yaml
in_cgw python3 "$WORK/probe.py" "$WORK/stop" "$SERVICE_IP" > "$WORK/probe.out" &
PROBE_PID=$!
sleep 2
pid_before=$(systemctl show -p MainPID --value dvsum-vpn.service)
cd "$WORK/v2"
timed upgrade env DEBIAN_FRONTEND=noninteractive apt-get install -y ./dvsum-vpn_*.deb
cd - >/dev/null
timed settle wait_established 120 || fail "tunnels not established after the upgrade"
sleep 2
touch "$WORK/stop"
wait "$PROBE_PID"
PROBE_PID=
read -r sent lost < "$WORK/probe.out"
echo "== package: upgrade: $lost of $sent probes lost (one every 100 ms)"
dpkg-query -W dvsum-vpn
systemctl is-active --quiet dvsum-vpn.service || fail "not active after the upgrade"
echo "main pid before $pid_before, after $(systemctl show -p MainPID --value dvsum-vpn.service)"
journalctl -u dvsum-vpn.service -b --no-pager -o short-monotonic | tail -n 15
health_check | grep -q '"status":"OK"' || fail "health check after the upgrade"
[ "$sent" -gt 20 ] || fail "only $sent probes sent"
[ "$lost" -le 1 ] || fail "the upgrade cut traffic: $lost of $sent probes lost"
head -n 1 /etc/dvsum-vpn/config.yaml | grep -q 'package tier' || fail "config.yaml lost"
tail -n 1 /etc/dvsum-vpn/config.example.yaml | grep -qx '# edited by the operator' \
  || fail "the upgrade overwrote the edited conffile config.example.yaml"

step "apt purge dvsum-vpn"
# In the gateway's namespace, as the operator on a real gateway would be:
# the prerm's `dvsum-vpn down` removes what the agent made there.
timed purge in_cgw env DEBIAN_FRONTEND=noninteractive apt-get purge -y dvsum-vpn
snapshot "$WORK/after"
expect_unchanged "$WORK/before.files" "$WORK/after.files" "the file list"
expect_unchanged "$WORK/before.net" "$WORK/after.net" "the gateway's network state"
if swanctl --list-conns | grep -q dvsum; then
  fail "charon still has dvsum connections"
fi

printf '== package: times: install %.1f s, configure to both tunnels %.1f s, upgrade %.1f s (settled %.1f s later), purge %.1f s\n' \
  "${TOOK[install]}" "${TOOK[configure]}" "${TOOK[upgrade]}" "${TOOK[settle]}" "${TOOK[purge]}"
echo "== package: upgrade lost $lost of $sent probes"
echo "== package: passed"
