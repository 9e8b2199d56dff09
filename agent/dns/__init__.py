"""DNS approach B: forward the DvSum domain to DvSum's resolvers.

The resolver this machine already runs (systemd-resolved, dnsmasq or
unbound) sends the one domain, and only it, to DvSum's resolvers through
the tunnel.  Pure renderers (``dnsmasq``, ``unbound``, ``resolved``,
``block``) say what the edit is; ``owned``, ``reload``, ``resolved_link``
and ``forward`` make it; ``detect`` finds the resolver; ``target`` tells
other commands what is forwarded where.
"""

BACKENDS = ("systemd-resolved", "dnsmasq", "unbound")
