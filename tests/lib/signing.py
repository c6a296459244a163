"""tests/lib/signing.py — checks on the token's keys from outside the firmware, with OpenSC and OpenSSL."""
import base64
import os
import subprocess

from harness import check

SLC_ID_HEX = b"signet-slc".hex()


def export_slc_public_key(token, tmp):
    """The SLC public key as PEM, read with pkcs11-tool straight from SoftHSM2."""
    der = os.path.join(tmp, "slc-pub.der")
    pem = os.path.join(tmp, "slc-pub.pem")
    rc, out = token.pkcs11_tool("--read-object", "--type", "pubkey", "--id", SLC_ID_HEX,
                                "-o", der, login=False)
    check(rc == 0, "pkcs11-tool could not read the SLC public key:\n" + out)
    subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", der, "-out", pem],
                   check=True, capture_output=True)
    return pem


def openssl_verifies(pem, message, sig_b64, tmp):
    msg = os.path.join(tmp, "msg.bin")
    sig = os.path.join(tmp, "sig.bin")
    with open(msg, "wb") as f:
        f.write(message.encode())
    with open(sig, "wb") as f:
        f.write(base64.b64decode(sig_b64))
    res = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pem, "-signature", sig, msg],
                         capture_output=True, text=True)
    return res.returncode == 0 and "Verified OK" in res.stdout


def private_key_report(token, key_id="signet-slc"):
    """pkcs11-tool's description of the private keys with this CKA_ID (None: all of them)."""
    rc, out = token.pkcs11_tool("--list-objects", "--type", "privkey")
    check(rc == 0, "pkcs11-tool --list-objects failed:\n" + out)
    if key_id is None:
        return out
    blocks = ["Private Key Object" + b for b in out.split("Private Key Object")[1:]]
    want = "ID:         " + key_id.encode().hex()
    return "".join(b for b in blocks if want in b)


# python3-cryptography as Debian ships it (the system interpreter, not a test runner's own).
_CRYPTOGRAPHY_READS = r"""
import sys
from cryptography import x509
for path in sys.argv[1:]:
    c = x509.load_pem_x509_certificate(open(path, "rb").read())
    oids = [e.oid.dotted_string for e in c.extensions]
    print(path, c.subject.rfc4514_string(), " ".join(oids))
"""


def other_stacks_read(pems, con=None):
    """Every certificate (PEM files) is read by GnuTLS's certtool and by Debian's
    python3-cryptography, extensions included: the X.509 stacks that refused the first private
    arc (docs/certificates.md). Returns python-cryptography's lines (path, subject, OIDs)."""
    for p in pems:
        res = subprocess.run(["certtool", "--certificate-info", "--infile", p],
                             capture_output=True, text=True, timeout=30)
        check(res.returncode == 0 and "Subject:" in res.stdout,
              "certtool cannot read %s:\n%s%s" % (p, res.stdout, res.stderr[-2000:]), con)
    res = subprocess.run(["/usr/bin/python3", "-c", _CRYPTOGRAPHY_READS] + list(pems),
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 0, "python3-cryptography cannot read %s:\n%s" % (pems, res.stderr[-2000:]),
          con)
    return res.stdout


# python3-cryptography checks a chain the way a relying party does without OpenSSL's verifier
# (Debian's 38 has no chain verifier of its own): each certificate's signature with the next
# one's key, names chained, issuers are CAs, every certificate valid at the time given, the last
# one issued by the anchor (which signs itself). Prints one JSON line of facts per certificate.
_CRYPTOGRAPHY_VERIFIES = r"""
import datetime, json, sys
from cryptography import x509
VIA_OID = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703.7"
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
anchor = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
now = datetime.datetime.utcfromtimestamp(float(sys.argv[2]))
certs = [x509.load_pem_x509_certificate(open(p, "rb").read()) for p in sys.argv[3:]]
def signed_by(c, issuer):
    key = issuer.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(c.signature, c.tbs_certificate_bytes, padding.PKCS1v15(), c.signature_hash_algorithm)
    else:
        key.verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(c.signature_hash_algorithm))
    if c.issuer != issuer.subject:
        sys.exit("%s: issuer %s is not %s" % (c.subject.rfc4514_string(), c.issuer.rfc4514_string(),
                                             issuer.subject.rfc4514_string()))
    if issuer != c:  # a self-signed anchor needs to be no CA
        bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not bc.ca:
            sys.exit("%s signed %s but is no CA" % (issuer.subject.rfc4514_string(),
                                                    c.subject.rfc4514_string()))
path = certs + ([anchor] if certs[-1] != anchor else [])
for c, issuer in zip(path, path[1:] + [anchor]):
    signed_by(c, issuer)
    if not (c.not_valid_before <= now <= c.not_valid_after):
        sys.exit("%s is not valid at %s (%s .. %s)" % (c.subject.rfc4514_string(), now,
                                                       c.not_valid_before, c.not_valid_after))
for c in certs:
    try:
        cdp = c.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        urls = [n.value for dp in cdp for n in (dp.full_name or [])]
    except x509.ExtensionNotFound:
        urls = []
    via = None
    for e in c.extensions:
        if e.oid.dotted_string == VIA_OID:
            via = e.value.value.hex()
    epoch = datetime.datetime(1970, 1, 1)
    print(json.dumps({"subject": c.subject.rfc4514_string(), "serial": "%032x" % c.serial_number,
                      "not_before": (c.not_valid_before - epoch).total_seconds(),
                      "not_after": (c.not_valid_after - epoch).total_seconds(),
                      "crl_urls": urls, "via": via}))
"""


def three_stacks_verify(anchor, pems, con=None, at=None, end_entity=False):
    """pems (files, the certificate first, then its chain towards anchor) verify with
    `openssl verify`, GnuTLS's `certtool --verify` and python3-cryptography against the anchor
    (a PEM file), at time `at` (Unix seconds; default now; certtool always checks at now).
    Returns python-cryptography's facts
    of each certificate in pems: dicts of subject, serial (hex), not_before, not_after (Unix
    seconds), crl_urls, via (the ARC.7 extension's value as hex, or None).
    end_entity: pems is one self-signed certificate that is no CA (the TLS certificate, trusted
    by its fingerprint), which GnuTLS refuses as an anchor by design: certtool only reads it."""
    import json
    import time
    at = time.time() if at is None else at
    leaf, chain = pems[0], list(pems[1:])
    bundle = leaf + ".bundle"
    with open(bundle, "w") as f:
        for p in pems:
            with open(p) as g:
                f.write(g.read())
    argv = ["openssl", "verify", "-attime", str(int(at)), "-CAfile", anchor]
    if chain:
        argv += ["-untrusted", bundle]
    res = subprocess.run(argv + [leaf], capture_output=True, text=True, timeout=30)
    check(res.returncode == 0 and res.stdout.strip().endswith("OK"),
          "openssl verify %s: %s%s" % (os.path.basename(leaf), res.stdout, res.stderr), con)
    if end_entity:
        other_stacks_read([leaf], con)
    else:
        res = subprocess.run(["certtool", "--verify", "--load-ca-certificate", anchor,
                              "--verify-profile", "low", "--infile", bundle],
                             capture_output=True, text=True, timeout=30)
    check(end_entity or res.returncode == 0 and "Chain verification output: Verified" in res.stdout,
          "certtool --verify %s:\n%s%s" % (os.path.basename(leaf), res.stdout[-3000:],
                                           res.stderr[-1000:]), con)
    res = subprocess.run(["/usr/bin/python3", "-c", _CRYPTOGRAPHY_VERIFIES, anchor, str(at)] + pems,
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 0, "python3-cryptography does not verify %s:\n%s" %
          (os.path.basename(leaf), res.stderr[-2000:]), con)
    return [json.loads(line) for line in res.stdout.splitlines()]
