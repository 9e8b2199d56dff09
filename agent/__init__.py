"""dvsum-vpn: the customer end of DvSum's AWS Site-to-Site VPN."""

__version__ = "0.1.0"
