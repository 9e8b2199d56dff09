"""``dvsum-vpn check``: DvSum's connectivity tests, each bounded in time.

One module per concern: the checks (``tunnels``, ``route``, ``dns``,
``tcp``, ``mtu``, ``tls``, ``web``), the runner that runs them in two
phases, the diagnosis that explains a failure from what the checks saw,
and the table, JSON and report output.
"""
