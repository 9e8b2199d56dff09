"""The lab CA and one server certificate per landing-zone service (openssl).

ECDSA P-256 keys keep `up()` fast. The extensions satisfy strict
verifiers (Python's VERIFY_X509_STRICT too): the CA has keyCertSign and a
subject key identifier, each leaf its name as CN and subjectAltName,
serverAuth, and an authority key identifier.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from tests.lab.commands import run

LOG = logging.getLogger(__name__)

DAYS = "30"

OPENSSL_CNF = """\
# Written by the dvsum-vpn lab.
[req]
distinguished_name = dn
prompt = no

[dn]

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""

LEAF_EXT = """\
# Written by the dvsum-vpn lab.
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:{name}
"""

KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"]


@dataclass(frozen=True)
class ServerCert:
    name: str
    cert: Path
    key: Path


class Pki:
    """A CA under directory, issuing server certificates next to it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_cert = directory / "ca.pem"
        self.ca_key = directory / "ca.key"
        self._cnf = directory / "openssl.cnf"

    def create_ca(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._cnf.write_text(OPENSSL_CNF)
        run(
            [
                "openssl", "req", "-x509", *KEY_ARGS,
                "-config", str(self._cnf), "-extensions", "ca",
                "-subj", "/O=dvsum-vpn lab/CN=dvsum-vpn lab CA",
                "-days", DAYS,
                "-keyout", str(self.ca_key), "-out", str(self.ca_cert),
            ]
        )  # fmt: skip
        LOG.info("lab CA: %s", self.ca_cert)

    def issue(self, name: str) -> ServerCert:
        """A server certificate for DNS name `name` (CN and subjectAltName)."""
        cert = ServerCert(
            name=name,
            cert=self.directory / f"{name}.pem",
            key=self.directory / f"{name}.key",
        )
        csr = self.directory / f"{name}.csr"
        ext = self.directory / f"{name}.ext"
        ext.write_text(LEAF_EXT.format(name=name))
        run(
            [
                "openssl", "req", *KEY_ARGS,
                "-config", str(self._cnf), "-subj", f"/CN={name}",
                "-keyout", str(cert.key), "-out", str(csr),
            ]
        )  # fmt: skip
        run(
            [
                "openssl", "x509", "-req", "-in", str(csr),
                "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
                "-set_serial", "0x" + secrets.token_hex(8), "-days", DAYS,
                "-extfile", str(ext),
                "-out", str(cert.cert),
            ]
        )  # fmt: skip
        csr.unlink()
        ext.unlink()
        return cert
