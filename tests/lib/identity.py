"""tests/lib/identity.py — an organisation's user CA and its users, made with openssl.

OrgCA(tmp) is what an organisation already runs for its smart cards or S/MIME: a user CA (RSA-2048
or P-256), optionally an issuing CA under it. user() issues an identity certificate for a name
(SAN rfc822Name, or the Microsoft UPN otherName Windows smart cards carry). Keys are made at test
time in the test's tmp dir and never leave it. identity_import() is the operator's
`identity import DOMAINS` with the CA's PEM pasted. Nothing here outside openssl and the standard
library.
"""
import hashlib
import os
import re
import ssl
import subprocess

from enrollment import paste
from harness import check

UPN_OID = "1.3.6.1.4.1.311.20.2.3"
# Long enough for every test, short enough that "expired" stays in the past.
PAST_START = "20200101000000Z"
PAST_END = "20210101000000Z"


def _run(*argv, cwd=None):
    res = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=60)
    check(res.returncode == 0, "%s failed:\n%s%s" % (" ".join(argv), res.stdout, res.stderr))
    return res.stdout


def fingerprint(pem_path):
    """AA:BB:.. (SHA-256 of the DER) of the first certificate in a PEM file."""
    with open(pem_path) as f:
        text = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", text, re.S)
    check(m, "no certificate in %s" % pem_path)
    der = ssl.PEM_cert_to_DER_cert(m.group(0))
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def _newkey(path, alg):
    if alg == "ec":
        _run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", path)
    else:
        _run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", path)
    os.chmod(path, 0o600)


class _Signer:
    """A directory `openssl ca` can sign from (its database, serial, extension sections)."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(os.path.join(d, "new"), exist_ok=True)
        for name, text in (("index.txt", ""), ("serial", "1000\n")):
            p = os.path.join(d, name)
            if not os.path.exists(p):
                with open(p, "w") as f:
                    f.write(text)
        self.n = 0

    def sign(self, csr, out, key, cert=None, ext="", days=365, expired=False, alg="rsa"):
        """cert None: self-signed with key. ext: the lines of an extension section."""
        self.n += 1
        conf = os.path.join(self.dir, "ca-%d.cnf" % self.n)
        with open(conf, "w") as f:
            f.write("[ca]\ndefault_ca = this\n[this]\ndir = %s\ndatabase = $dir/index.txt\n"
                    "serial = $dir/serial\nnew_certs_dir = $dir/new\ndefault_md = sha256\n"
                    "policy = anything\nunique_subject = no\ncopy_extensions = none\n"
                    "email_in_dn = no\n[anything]\ncommonName = supplied\n"
                    "organizationName = optional\n[ext]\n%s\n" % (self.dir, ext))
        argv = ["openssl", "ca", "-batch", "-notext", "-config", conf, "-extensions", "ext",
                "-in", csr, "-out", out, "-keyfile", key]
        argv += ["-selfsign"] if cert is None else ["-cert", cert]
        if expired:
            argv += ["-startdate", PAST_START, "-enddate", PAST_END]
        else:
            argv += ["-days", str(days)]
        _run(*argv)


def _csr(key, subject, out):
    _run("openssl", "req", "-new", "-key", key, "-subj", subject, "-out", out)


CA_KU = "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"
CA_EXT = "basicConstraints = critical, CA:TRUE\n" + CA_KU


class User:
    """name; cert: PEM path (leaf, then the intermediates); key: PEM path; fp: the leaf's
    fingerprint as the appliance prints it."""

    def __init__(self, name, cert, key):
        self.name = name
        self.cert = cert
        self.key = key
        self.fp = fingerprint(cert)


class OrgCA:
    """An organisation's user CA made with openssl in tmp/<name>/ (RSA-2048 by default, or
    'ec' for P-256); intermediate=True puts an issuing CA under a root and signs users with it.
    expired=True makes the CA itself expired (an operator importing it is refused); leaf=True
    makes it no CA at all (basicConstraints CA:FALSE), for the same."""

    def __init__(self, tmp, name="Contoso Users CA", alg="rsa", intermediate=False,
                 expired=False, leaf=False):
        self.name = name
        self.alg = alg
        self.dir = os.path.join(tmp, re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-"))
        os.makedirs(self.dir, exist_ok=True)
        self.signer = _Signer(os.path.join(self.dir, "ca"))
        self.key = os.path.join(self.dir, "ca-key.pem")
        self.pem = os.path.join(self.dir, "ca.pem")
        _newkey(self.key, alg)
        csr = os.path.join(self.dir, "ca.csr")
        _csr(self.key, "/O=%s/CN=%s" % (name.split()[0], name), csr)
        ext = CA_EXT if not leaf else "basicConstraints = critical, CA:FALSE\n"
        self.signer.sign(csr, self.pem, self.key, ext=ext, days=3650, expired=expired)
        self.fp = fingerprint(self.pem)
        self.chain_pems = []
        self.issuer_key, self.issuer_pem = self.key, self.pem
        if intermediate:
            ikey = os.path.join(self.dir, "issuing-key.pem")
            ipem = os.path.join(self.dir, "issuing.pem")
            _newkey(ikey, alg)
            icsr = os.path.join(self.dir, "issuing.csr")
            _csr(ikey, "/O=%s/CN=%s Issuing" % (name.split()[0], name), icsr)
            self.signer.sign(icsr, ipem, self.key, cert=self.pem,
                             ext="basicConstraints = critical, CA:TRUE, pathlen:0\n" + CA_KU,
                             days=1825)
            self.chain_pems = [ipem]
            self.issuer_key, self.issuer_pem = ikey, ipem

    def text(self):
        with open(self.pem) as f:
            return f.read()

    def user(self, name, kind="email", days=365, expired=False, eku="clientAuth",
             key_usage="digitalSignature", extra_names=()):
        """An identity certificate for name. kind "email" (SAN email:), "upn" (SAN otherName
        UPN), "none" (no SAN). eku None omits extendedKeyUsage; key_usage None omits keyUsage.
        extra_names: more SAN entries as openssl writes them ("email:x@y", "otherName:...")."""
        base = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
        udir = os.path.join(self.dir, "users")
        os.makedirs(udir, exist_ok=True)
        n = 0
        while os.path.exists(os.path.join(udir, "%s-%d.pem" % (base, n))):
            n += 1
        stem = os.path.join(udir, "%s-%d" % (base, n))
        key, leaf, csr = stem + "-key.pem", stem + "-leaf.pem", stem + ".csr"
        _newkey(key, self.alg)
        _csr(key, "/CN=%s" % name.split("@")[0], csr)
        san = []
        if kind == "email":
            san.append("email:%s" % name)
        elif kind == "upn":
            san.append("otherName:%s;UTF8:%s" % (UPN_OID, name))
        san += list(extra_names)
        ext = "basicConstraints = critical, CA:FALSE\n"
        if key_usage:
            ext += "keyUsage = critical, %s\n" % key_usage
        if eku:
            ext += "extendedKeyUsage = %s\n" % eku
        if san:
            ext += "subjectAltName = %s\n" % ", ".join(san)
        self.signer.sign(csr, leaf, self.issuer_key, cert=self.issuer_pem, ext=ext, days=days,
                         expired=expired)
        cert = stem + ".pem"
        with open(cert, "w") as out:
            for p in [leaf] + self.chain_pems:
                with open(p) as f:
                    out.write(f.read())
        return User(name, cert, key)


def identity_import(con, ca, domains):
    """`identity import DOMAINS`, pasting ca.pem; the fingerprint the appliance printed."""
    out = paste(con, "identity import %s" % domains, ca.text())
    check("identity source trusted:" in out, "identity import %s: %r" % (domains, out), con)
    m = re.search(r"fingerprint: ([0-9A-F]{2}(?::[0-9A-F]{2}){31})", out)
    check(m, "identity import printed no fingerprint: %r" % out, con)
    return m.group(1)
