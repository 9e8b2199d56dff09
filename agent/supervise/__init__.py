"""``dvsum-vpn run``: the supervisor that keeps traffic to DvSum flowing.

machine   one tunnel's health as an explicit state machine (pure)
choice    which tunnel carries traffic, with failback hold-down (pure)
backoff   when to re-initiate a dead tunnel (pure)
probe     TCP connect probes through the tunnel
events    VICI and netlink events as one queue
reconcile what the agent owns on the machine, re-applied and repaired
notify    systemd's notify protocol: READY, STATUS, WATCHDOG
daemon    the loop that ties them together
"""
