"""A throw-away CA and server certificate for the reference endpoint's HTTPS listener.

Clients trust the CA with `--ca-file`; nothing here is meant for production certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: the generated CA lives this long (in memory only: its key is never written anywhere)
CA_DAYS = 3650
#: the server certificate it signs lives this long, and is renewed RENEW_BEFORE_DAYS before
LEAF_DAYS = 30
RENEW_BEFORE_DAYS = 10


@dataclass(frozen=True)
class Issued:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    not_after: dt.datetime = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Authority:
    """A throw-away CA, kept in memory so its server certificate can be renewed under it."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trtcdetect"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def authority(days: int = CA_DAYS) -> Authority:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("trtcdetect reference CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return Authority(ca_key, ca)


def leaf(ca: Authority, names: list[str], days: float = LEAF_DAYS) -> Issued:
    """A server certificate for `names` (DNS names or IP literals) under `ca`."""
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days)
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0])).issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                       critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Issued(
        ca_pem=ca.pem,
        cert_pem=cert.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
        not_after=not_after,
    )


def issue(names: list[str], days: int = LEAF_DAYS) -> Issued:
    """A new CA and a server certificate for `names`, valid `days` days."""
    return leaf(authority(), names, days)


class Renewer:
    """The generated server certificate of a TLS context, renewed under the same CA before it
    expires (serve runs for months; clients keep trusting the CA file they were given)."""

    def __init__(self, ctx: ssl.SSLContext, names: list[str], days: float = LEAF_DAYS) -> None:
        self.ctx, self.names, self.days = ctx, names, days
        self.ca = authority()
        self.not_after = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.renewals = 0
        self.load()

    def load(self) -> None:
        issued = leaf(self.ca, self.names, self.days)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert.write_bytes(issued.cert_pem)
            write_private(key, issued.key_pem)
            self.ctx.load_cert_chain(str(cert), str(key))  # new connections get it
        self.not_after = issued.not_after

    def renew_if_due(self, now: dt.datetime | None = None) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        if self.not_after - now > dt.timedelta(days=min(RENEW_BEFORE_DAYS, self.days / 3)):
            return False
        self.load()
        self.renewals += 1
        return True


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)
