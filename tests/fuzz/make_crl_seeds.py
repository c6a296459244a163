#!/usr/bin/env python3
"""Seed corpus for fuzz_crl, made with python3-cryptography.

An issuer certificate (a CA whose key may sign CRLs; tests/fuzz/crl_issuer.der, the one fuzz_crl
verifies against) and CRLs it signed in Signet's profile (v2, authorityKeyIdentifier, cRLNumber,
reasonCode entries, the ARC.8 excluded users): an empty one, a few entries, 600 entries, one with
a GeneralizedTime nextUpdate, written into tests/fuzz/corpus/crl/ for each of fuzz_crl's modes
(whole DER, PEM text, the TBS body after the issuer Name). The key lives only in memory: only
the public certificate and CRLs are kept. Run it again to renew the seeds.

    /usr/bin/python3 tests/fuzz/make_crl_seeds.py
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus", "crl")
ARC = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
UTC = datetime.timezone.utc


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b + body


def read_tlv(der, at):
    """(tag, content start, end) of the TLV at der[at]."""
    tag, n = der[at], der[at + 1]
    at += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(der[at:at + k], "big")
        at += k
    return tag, at, at + n


def body_of(crl_der):
    """The TBSCertList after version, signature and issuer: what get_tbs_body reads."""
    _, tbs, _ = read_tlv(crl_der, 0)
    _, at, end = read_tlv(crl_der, tbs)
    for _ in range(3):  # version, signature, issuer
        _, _, at = read_tlv(crl_der, at)
    return crl_der[at:end]


def serial(i):
    return (0x40 << 120) | (i * 0x9E3779B97F4A7C15 % (1 << 120))


def excluded(names):
    return tlv(0x30, b"".join(tlv(0x0C, n.encode()) for n in names))


def crl(key, issuer, number, count, names, next_update):
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
         .last_update(datetime.datetime(2026, 12, 1, 12, tzinfo=UTC)).next_update(next_update))
    reasons = [None, x509.ReasonFlags.key_compromise, x509.ReasonFlags.affiliation_changed,
               x509.ReasonFlags.superseded, x509.ReasonFlags.cessation_of_operation]
    for i in range(count):
        r = (x509.RevokedCertificateBuilder().serial_number(serial(i + 1))
             .revocation_date(datetime.datetime(2026, 11, 1 + i % 28, 9, tzinfo=UTC)))
        if reasons[i % 5]:
            r = r.add_extension(x509.CRLReason(reasons[i % 5]), critical=False)
        b = b.add_revoked_certificate(r.build())
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                        critical=False)
    b = b.add_extension(x509.CRLNumber(number), critical=False)
    if names:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(ARC + ".8"),
                                                       excluded(names)), critical=False)
    return b.sign(key, hashes.SHA256())


def write(name, data):
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(CORPUS, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Signet fuzz"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "crl issuer")])
    now = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    issuer = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
              .public_key(key.public_key()).serial_number(serial(0))
              .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=7300))
              .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                           False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                             critical=False)
              .sign(key, hashes.SHA256()))
    with open(os.path.join(HERE, "crl_issuer.der"), "wb") as f:
        f.write(issuer.public_bytes(serialization.Encoding.DER))
    day = datetime.datetime(2026, 12, 2, 12, tzinfo=UTC)
    crls = {
        "empty": crl(key, issuer, 1, 0, [], day),
        "few": crl(key, issuer, 7, 5, ["bob@contoso.example", "eve@Fabrikam.example"], day),
        "many": crl(key, issuer, 0x1234567890, 600, ["mallory@contoso.example"], day),
        "y2050": crl(key, issuer, 2, 2, [], datetime.datetime(2050, 1, 1, tzinfo=UTC)),
    }
    for n, c in crls.items():
        der = c.public_bytes(serialization.Encoding.DER)
        write("read-" + n, b"\x00\xff" + der)
        write("pem-" + n, b"\x01\xff" + c.public_bytes(serialization.Encoding.PEM))
        write("body-" + n, b"\x02\xff" + body_of(der))
    # the reader with room for only a few entries
    write("read-few-cap2", b"\x00\x02" + crls["few"].public_bytes(serialization.Encoding.DER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
