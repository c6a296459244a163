"""signet-authority, the enrollment authority (DESIGN.md R2-R6, R10, R11), against a real SoftHSM2
token in the test's temporary directory.

Requests are built here, independently of our C code: keys and PKCS#10 proofs of possession by the
openssl CLI, the XML by hand after docs/protocol.md. Responses are taken apart with Python's own XML
parser and judged by `openssl verify` and `openssl x509 -text`, the way an operator would.
"""
import base64
import datetime
import os
import re
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

from harness import ROOT, Console, TestFailure, check
from hsm import SOFTHSM_MODULE, USER_PIN, Token
from signing import private_key_report

AUTHORITY = os.path.join(ROOT, "build", "tools", "signet-authority")
KEY_ID = "signet-authority-root"
URL = "https://rms.example.test/"
# The private arc (docs/certificates.md); openssl prints unknown extensions by their OID.
ARC = "2.25.121106065750351852537366942741521112631"


class Authority:
    """The tool on a fresh token; every file lives in the test's temporary directory."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.token = Token(tmp)
        self.token.stop()  # the tool loads SoftHSM2 itself; no p11-kit server needed
        self.root = self.path("authority-root.pem")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def env(self, pin=USER_PIN):
        env = dict(self.token.env)
        env.pop("SIGNET_AUTHORITY_PIN", None)
        if pin is not None:
            env["SIGNET_AUTHORITY_PIN"] = pin
        return env

    def run(self, *args, pin=USER_PIN):
        return subprocess.run([AUTHORITY] + list(args), env=self.env(pin), capture_output=True,
                              text=True, timeout=60)

    def ok(self, *args, **kw):
        res = self.run(*args, **kw)
        check(res.returncode == 0, "signet-authority %s failed (%d):\n%s%s"
              % (" ".join(args), res.returncode, res.stdout, res.stderr))
        return res.stdout

    def refused(self, out, *args, **kw):
        """Exit code != 0, exactly one line 'signet-authority: error: ...', no file at out."""
        res = self.run(*args, **kw)
        lines = res.stderr.splitlines()
        check(res.returncode != 0, "signet-authority %s should have failed:\n%s"
              % (" ".join(args), res.stdout))
        check(len(lines) == 1 and lines[0].startswith("signet-authority: error: "),
              "want one error line, got %r" % res.stderr)
        check(USER_PIN not in res.stderr + res.stdout, "the PIN appeared in the output")
        check(not os.path.exists(out), "%s was written despite the refusal" % out)
        return lines[0]

    def init(self):
        self.ok("init", "--out", self.root)


def openssl(*args, data=None):
    res = subprocess.run(["openssl"] + list(args), input=data, capture_output=True, timeout=60)
    check(res.returncode == 0, "openssl %s failed:\n%s" % (" ".join(args), res.stderr.decode()))
    return res.stdout


# ---- requests, built without our C code ----

class Key:
    """A key pair made by openssl in the temporary directory: SPKI and PKCS#10 as DER."""

    def __init__(self, tmp, name, alg):
        self.file = os.path.join(tmp, name + ".key")
        opts = {"ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]}[alg]
        openssl("genpkey", *opts, "-out", self.file)
        self.spki = openssl("pkey", "-in", self.file, "-pubout", "-outform", "DER")

    def csr(self, cn="root1"):
        return openssl("req", "-new", "-key", self.file, "-subj", "/CN=" + cn, "-outform", "DER")


def b64(der):
    return base64.b64encode(der).decode()


def request_xml(key_spki, pop, kind="enrollment", name="root1", url=URL, sku="Signet Root",
                version="0.1.0", revoker=None, doctype=False):
    """An enrollment document as docs/protocol.md defines it."""
    revocation = ('<revocation type="custom"><key>%s</key></revocation>' % b64(revoker)
                  if revoker else '<revocation type="standard"/>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ('<!DOCTYPE request [<!ENTITY x "y">]>\n' if doctype else "")
            + '<request kind="%s">\n' % kind
            + '  <server>%s</server>\n  <clusterUrl>%s</clusterUrl>\n' % (name, url)
            + '  <sku>%s</sku>\n  <version>%s</version>\n  %s\n' % (sku, version, revocation)
            + '  <publicKey>%s</publicKey>\n  <proof>%s</proof>\n' % (b64(key_spki), b64(pop))
            + '</request>\n')


def armor(label, data):
    text = base64.b64encode(data).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


def unarmor(label, text):
    m = re.search(r"-----BEGIN %s-----\n(.*?)-----END %s-----" % (label, label), text, re.S)
    check(m is not None, "no %s block in:\n%s" % (label, text[:400]))
    return base64.b64decode("".join(m.group(1).split()))


def response_certs(xml_text):
    """(SLC DER, [chain DER]) out of a response document."""
    root = ET.fromstring(xml_text)
    slc = root.find("slc")
    chain = root.find("chain")
    check(slc is not None and chain is not None, "response lacks slc/chain:\n%s" % xml_text[:400])
    return (base64.b64decode("".join(slc.text.split())),
            [base64.b64decode("".join(c.text.split())) for c in chain.findall("certificate")])


def pem(der):
    return openssl("x509", "-inform", "DER", "-outform", "PEM", data=der).decode()


def verify_response(au, xml_text, tag):
    """openssl verify -CAfile authority-root.pem -untrusted chain.pem slc.pem; the SLC's text."""
    slc, chain = response_certs(xml_text)
    check(len(chain) == 1, "the chain should be [authority root], has %d" % len(chain))
    slc_pem, chain_pem = au.path(tag + "-slc.pem"), au.path(tag + "-chain.pem")
    with open(slc_pem, "w") as f:
        f.write(pem(slc))
    with open(chain_pem, "w") as f:
        f.write("".join(pem(c) for c in chain))
    res = subprocess.run(["openssl", "verify", "-CAfile", au.root, "-untrusted", chain_pem, slc_pem],
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 0 and res.stdout.strip().endswith(": OK"),
          "openssl verify refused the %s SLC:\n%s%s" % (tag, res.stdout, res.stderr))
    return openssl("x509", "-in", slc_pem, "-noout", "-text").decode()


def validity_days(text):
    dates = [datetime.datetime.strptime(m, "%b %d %H:%M:%S %Y GMT") for m in
             re.findall(r"Not (?:Before|After) ?: (\w+ +\d+ [\d:]+ \d+ GMT)", text)]
    check(len(dates) == 2, "no validity in:\n" + text)
    return (dates[1] - dates[0]).total_seconds() / 86400


# ---- tests ----

def test_init_makes_a_ca_root_in_the_token_and_refuses_twice(tmp):
    au = Authority(tmp)
    au.refused(au.root, "init", "--out", au.root, pin=None)
    au.init()
    text = openssl("x509", "-in", au.root, "-noout", "-text").decode()
    check("CA:TRUE" in text and "pathlen" not in text, "root is not an unlimited CA:\n" + text)
    check("Public Key Algorithm: rsaEncryption" in text and "(2048 bit)" in text,
          "root is not RSA-2048:\n" + text)
    check("Signature Algorithm: sha256WithRSAEncryption" in text, "root not signed RSA/SHA-256")
    check("Subject: O = Signet, CN = Signet Enrollment Authority" in text, "root subject:\n" + text)
    check(ARC + ".1" in text, "root lacks the rights extension")
    days = validity_days(text)
    check(20 * 365 <= days <= 20 * 366, "root validity is %.1f days, not 20 years" % days)
    # The key, as OpenSC sees it straight from SoftHSM2.
    report = private_key_report(au.token, KEY_ID)
    check("RSA" in report, "no root private key in the token:\n" + report)
    for want in ("sensitive", "always sensitive", "never extractable"):
        check(want in report, "root key is not %s:\n%s" % (want, report))
    check(re.search(r"Usage:\s+sign\s*$", report, re.M), "root key is not sign-only:\n" + report)
    rc, certs = au.token.pkcs11_tool("--list-objects", "--type", "cert")
    check(rc == 0 and "ID:         " + KEY_ID.encode().hex() in certs,
          "no root certificate object beside the key:\n" + certs)
    # Twice: refused, the existing root untouched; export-root writes the same certificate.
    line = au.refused(au.path("again.pem"), "init", "--out", au.path("again.pem"))
    check("already holds an authority root" in line, "init twice: " + line)
    au.ok("export-root", "--out", au.path("export.pem"), pin=None)
    with open(au.root) as a, open(au.path("export.pem")) as b:
        check(a.read() == b.read(), "export-root wrote another certificate")
    au.ok("init", "--out", au.path("forced.pem"), "--force", "--years", "2", "--cn", "Test CA")
    text = openssl("x509", "-in", au.path("forced.pem"), "-noout", "-text").decode()
    check("CN = Test CA" in text and 2 * 365 <= validity_days(text) <= 2 * 366,
          "--force --years 2 --cn:\n" + text)
    check(private_key_report(au.token, KEY_ID).count("Private Key Object") == 1,
          "--force left more than one root key")
