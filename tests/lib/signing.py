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
