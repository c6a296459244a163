"""tests/lib/rights.py — the rights-management hierarchy as an operator and users build it.

root_server() and licensing_prepare() provision appliances the way docs/ and README say: a root
enrolled online with the authority, a licensing server that sub-enrolls to it over mutual TLS
once the root's operator granted its `tls fingerprint`. Client runs tools/signet-client, the
user's side, authenticated by an identity certificate (--id-cert/--id-key) from an organisation's
user CA; Org is such an organisation, its CA trusted on the appliances given (`identity import`),
handing out Clients for its users. openssl_verify() is what a relying party checks.
"""
import base64
import os
import re
import subprocess
import time

from enrollment import pem_blocks, prepare_appliance, trust
from harness import PROMPT, ROOT, check
from hsm import Token, console_login
from identity import OrgCA, identity_import
from signing import other_stacks_read
from netboard import host_on_network

CLIENT_BIN = os.path.join(ROOT, "build", "tools", "signet-client")
HOST = "10.0.2.2"  # the host, as a board on the user-mode network sees it


def enroll_root(con, authority_port, name="root1"):
    out = con.command("enroll online http://%s:%d" % (HOST, authority_port), 60)
    if "SLC installed" not in out:
        out += con.expect(r"SLC installed.*\n", 60).group(0)


def wait_line(con, pattern, timeout=60):
    """The rest of an asynchronous command's output, up to the line matching pattern."""
    return con.expect(pattern, timeout).group(0)


def tls_fingerprint(con):
    m = re.search(r"([0-9A-F]{2}(?::[0-9A-F]{2}){31})", con.command("tls fingerprint"))
    check(m, "no fingerprint from `tls fingerprint`", con)
    return m.group(1)


def online(con, url, timeout=60):
    """enroll online URL; returns everything up to the outcome line."""
    con.send("enroll online %s\n" % url)
    m = con.expect(r"(SLC installed[^\n]*|error: [^\n]*)\n", timeout)
    if m.group(1).startswith("SLC installed"):
        # Then the CRL of whoever answered is fetched (crl_fetch.c): the console is back after.
        con.expect(PROMPT, timeout)
        # A licensing server serves once it holds its root's CRL (docs/requirements.md R20): wait
        # for that as an operator would, by status, rather than race the fetch.
        deadline = time.monotonic() + timeout
        while ("no CRL from the root yet" in con.command("status") and
               time.monotonic() < deadline):
            time.sleep(0.2)
    return m.group(1)


def root_server(tmp, auth, port, name="root1", nv="root.img"):
    """A root on the host board with its own token, enrolled online with the authority serving
    on port: (token, board)."""
    tok = Token(os.path.join(tmp, name))
    nb = host_on_network(tmp, tok, nv=nv)
    prepare_appliance(nb.con, name=name)
    trust(nb.con, auth)
    out = online(nb.con, "http://%s:%d" % (HOST, port))
    check("SLC installed" in out, "root enrollment: %r" % out, nb.con)
    return tok, nb


def licensing_prepare(con, authority, name="lic1"):
    console_login(con)
    out = con.command("config role licensing")
    check("role: licensing" in out, "config role: %r" % out, con)
    prepare_appliance(con, name=name, url="https://%s.example.test/" % name)
    trust(con, authority)
    out = con.command("config show")
    check("revocation:  the root cluster's" in out, "a licensing server's policy: %r" % out, con)


def export_certs(con, command, tmp, name):
    """A console command's PEM output into files: [leaf, chain...] paths."""
    certs = pem_blocks(con.command(command))
    check(certs, "%s printed no certificates" % command, con)
    paths = []
    for i, c in enumerate(certs):
        p = os.path.join(tmp, "%s-%d.pem" % (name, i))
        with open(p, "w") as f:
            f.write(c)
        paths.append(p)
    return paths


def openssl_verify(anchor, leaf_pem, chain_pems, con=None):
    """openssl verify of one certificate against the authority root with its chain."""
    chain = leaf_pem + ".chain"
    with open(chain, "w") as f:
        for p in chain_pems:
            with open(p) as g:
                f.write(g.read())
    argv = ["openssl", "verify", "-CAfile", anchor]
    if chain_pems:
        argv += ["-untrusted", chain]
    res = subprocess.run(argv + [leaf_pem], capture_output=True, text=True, timeout=30)
    check(res.returncode == 0 and "OK" in res.stdout,
          "openssl verify %s: %s%s" % (os.path.basename(leaf_pem), res.stdout, res.stderr), con)
    other_stacks_read([leaf_pem] + list(chain_pems), con)


def split_bundle(path, tmp, name):
    """A PEM bundle (leaf first) into files."""
    with open(path) as f:
        certs = pem_blocks(f.read())
    out = []
    for i, c in enumerate(certs):
        p = os.path.join(tmp, "%s-%d.pem" % (name, i))
        with open(p, "w") as f:
            f.write(c)
        out.append(p)
    return out


class Client:
    """tools/signet-client for one user, in their own directory."""

    def __init__(self, tmp, user, fingerprints=None, identity=None):
        """fingerprints: {HTTPS port: the appliance's `tls fingerprint`} to pin; other ports
        are reached with --insecure. identity: the user's identity.User (certificate and key),
        presented on every network command (url_args)."""
        self.user = user
        self.dir = os.path.join(tmp, "user-" + user.split("@")[0])
        os.makedirs(self.dir, exist_ok=True)
        self.key = os.path.join(self.dir, "user.key")
        self.rac = os.path.join(self.dir, "user.rac")
        self.fingerprints = fingerprints or {}
        self.identity = identity

    def run(self, *args, timeout=60):
        res = subprocess.run([CLIENT_BIN] + list(args), capture_output=True, text=True,
                             timeout=timeout, cwd=self.dir)
        return res.returncode, res.stdout + res.stderr

    def id_args(self):
        i = self.identity
        return ["--id-cert", i.cert, "--id-key", i.key] if i else []

    def url_args(self, port):
        """Where and how to reach the appliance, and who we are to it."""
        fp = self.fingerprints.get(port)
        return ["--url", "https://127.0.0.1:%d" % port] + (
            ["--tls-fingerprint", fp] if fp else ["--insecure"]) + self.id_args()

    def keygen(self):
        rc, out = self.run("keygen", "--key", self.key)
        check(rc == 0, "keygen: " + out)

    def certify(self, port):
        return self.run("certify", *self.url_args(port), "--key", self.key, "--name", self.user,
                        "--rac", self.rac)

    def protect(self, port, path, *grants):
        args = ["protect"] + self.url_args(port) + ["--key", self.key, "--rac", self.rac]
        for g in grants:
            args += ["--grant", g]
        return self.run(*args, path)

    def open(self, port, path, out):
        return self.run("open", *self.url_args(port), "--key", self.key, "--rac", self.rac, path,
                        "--out", out)


def no_extractable_keys(token, con=None):
    """Every private key in the token is sensitive and never extractable; no secret keys."""
    rc, out = token.pkcs11_tool("--list-objects")
    check(rc == 0, "pkcs11-tool --list-objects failed:\n" + out, con)
    check("Secret Key Object" not in out, "a secret key is left in the token:\n" + out, con)
    blocks = out.split("Private Key Object")[1:]
    check(blocks, "no private keys listed:\n" + out, con)
    for b in blocks:
        access = re.search(r"Access:\s*(.*)", b)
        check(access and "never extractable" in access.group(1) and
              "sensitive" in access.group(1), "a private key may leave the token:\n" + b, con)


class Org:
    """An organisation (RSA user CA by default; OrgCA's arguments pass through) whose user CA
    the appliances on cons trust for domains: one call for "users of contoso.example can use
    these appliances". client() makes a user with an identity certificate and their Client."""

    def __init__(self, tmp, *cons, domains="contoso.example", **ca_args):
        self.tmp = tmp
        self.ca = OrgCA(tmp, **ca_args)
        self.domains = domains
        self.fingerprints = [self.trust_on(con) for con in cons]

    def trust_on(self, con):
        """identity import on one more appliance (its console logged in); the fingerprint."""
        return identity_import(con, self.ca, self.domains)

    def user(self, name, **kw):
        return self.ca.user(name, **kw)

    def client(self, name, fingerprints=None, **kw):
        """A Client for name, with a fresh identity certificate (kw: OrgCA.user's)."""
        return Client(self.tmp, name, fingerprints, self.user(name, **kw))


# ---- raw requests, for tests that drive the endpoints over one kept-alive connection ----

def certify_body(tmp, name):
    """A SignetCertifyRequest for name, with a fresh RSA key of its own."""
    key = os.path.join(tmp, "rights.key")
    subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True, capture_output=True)
    csr = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + name,
                          "-outform", "DER"], check=True, capture_output=True).stdout
    return ("<SignetCertifyRequest version=\"1\"><CertificateRequest>%s</CertificateRequest>"
            "</SignetCertifyRequest>" % base64.b64encode(csr).decode()).encode()


def post(conn, path, body):
    """POST an XML document on a kept-alive connection: (status, text)."""
    conn.request("POST", path, body=body, headers={"Content-Type": "application/xml"})
    r = conn.getresponse()
    return r.status, r.read().decode(errors="replace")


def publish_body(certify_answer):
    """A SignetPublishRequest for the RAC (and its chain) a certification answered with."""
    rac = re.search(r"<RightsAccountCertificate>.*?</RightsAccountCertificate>", certify_answer,
                    re.S)
    chain = re.search(r"<Chain>.*?</Chain>", certify_answer, re.S)
    return ("<SignetPublishRequest version=\"1\">%s%s<Policy><Grant user=\"bob@contoso.example\" "
            "rights=\"view\"/></Policy></SignetPublishRequest>" %
            (rac.group(0), chain.group(0))).encode()
