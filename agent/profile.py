"""DvSum's requirements for every tunnel: the default profile.

From DvSum's setup guide: IKEv2, AES-128-CBC, SHA-1 / HMAC-SHA1-96, DH
group 14 (never group 2), lifetimes 28800 s / 3600 s, DPD 10 s x 3, MTU 1436,
MSS 1379.  The MTU and MSS belong to a kernel XFRM interface; charon's
kernel-libipsec TUN device is fixed at MTU 1400, which leaves room for an
MSS of 1360 (see the README, "MTU and MSS").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    ike_version: int = 2
    ike_proposal: str = "aes128-sha1-modp2048"
    esp_proposal: str = "aes128-sha1-modp2048"
    ike_lifetime: int = 28800
    esp_lifetime: int = 3600
    dpd_delay: int = 10
    dpd_retries: int = 3
    mtu: int = 1436
    mss: int = 1379


DVSUM = Profile()

# kernel-libipsec's TUN device: MTU fixed by the plugin, MSS to match.
LIBIPSEC_MTU = 1400
LIBIPSEC_MSS = 1360

# Rekey ahead of AWS's hard lifetimes, so the customer side renews the SAs
# and AWS never has to expire them: IKE at 7.5 h (+ up to 0.5 h margin),
# CHILD at 51-54 min (hard limit 1 h).
IKE_REKEY_TIME = 27000
IKE_OVER_TIME = 1800
CHILD_REKEY_TIME = 3240
CHILD_RAND_TIME = 180
