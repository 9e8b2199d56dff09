"""``dvsum-vpn check``: DvSum's connectivity tests, each bounded in time.

One module per concern: the checks (``tunnels``, ``route``, ``resolve``
for DNS, ``tcp``, ``mtu`` over ``icmp``, ``tls`` and ``web`` for the
certificate, health checks and WebSocket), the ``runner`` that runs them
in two phases, the ``diagnosis`` (with its ``rules_*``) that explains a
failure from what the checks saw, and the table, JSON and report
``output``.
"""
