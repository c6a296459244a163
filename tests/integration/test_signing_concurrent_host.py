"""Certificates are signed while the appliance reads the next request (the token signs one
certificate while the next is checked; answers follow as signatures come in). Concurrent clients
must each get their own certificate, every one valid; a token server lost in the middle of that
costs the requests under way a clear 503, never a hang or a wrong answer, and issuing resumes by
itself."""
import base64
import hashlib
import json
import os
import re
import subprocess
import threading
import time

from enrollment import Authority, enroll_offline, pem_blocks, prepare_appliance, trust
from harness import check
from hsm import Token
from netboard import host_on_network, https_context, https_get
from rights import Org
import http.client

CLIENTS = 6
EACH = 15
XML = {"Content-Type": "application/xml"}


def ssl(*args, inp=None):
    res = subprocess.run(["openssl"] + list(args), capture_output=True, input=inp, timeout=60)
    check(res.returncode == 0, "openssl %s: %s" % (args[0], res.stderr.decode(errors="replace")))
    return res.stdout


def b64(der):
    return base64.b64encode(der).decode()


def element(text, name):
    m = re.search(r"<%s>(.*?)</%s>" % (name, name), text, re.S)
    return base64.b64decode(re.sub(r"\s", "", m.group(1))) if m else None


class Requester:
    """One client's identity and its request: a licensing server (subenroll, over the granted
    TLS client certificate run() is given) or a user (certify, over their own identity
    certificate from org)."""

    def __init__(self, tmp, i, org):
        self.name = ("lic-%d" % i) if i % 2 == 0 else ("user%d@contoso.example" % i)
        self.path = "/v1/subenroll" if i % 2 == 0 else "/v1/certify"
        self.elem = "ServerLicensorCertificate" if i % 2 == 0 else "RightsAccountCertificate"
        key = os.path.join(tmp, "req%d.key" % i)
        ssl("genrsa", "-out", key, "2048")
        self.spki = ssl("pkey", "-in", key, "-pubout", "-outform", "DER")
        csr = ssl("req", "-new", "-key", key, "-subj", "/CN=" + self.name, "-outform", "DER")
        if i % 2 == 0:
            self.body = (
                "<SignetRequest version=\"1\" kind=\"subenrollment\"><ServerName>%s</ServerName>"
                "<ClusterUrl>https://%s.example.test/</ClusterUrl><Sku>Signet</Sku>"
                "<Version>1.0</Version><Revocation type=\"standard\"/><PublicKey>%s</PublicKey>"
                "<ProofOfPossession>%s</ProofOfPossession></SignetRequest>" %
                (self.name, self.name, b64(self.spki), b64(csr))).encode()
        else:
            self.body = ("<SignetCertifyRequest version=\"1\"><CertificateRequest>%s"
                         "</CertificateRequest></SignetCertifyRequest>" % b64(csr)).encode()
        self.certs, self.statuses, self.errors = [], [], []
        self.ctx = None
        if i % 2 == 1:
            who = org.user(self.name)
            self.ctx = https_context(who.cert, who.key)

    def mine(self, der):
        """Our key and our name are in it: the answer is to our own request."""
        return self.spki in der and self.name.encode() in der

    def run(self, port, ctx, count, pause=0.0, until=None):
        """count requests, or (until given) as many as fit before until() says stop."""
        ctx = self.ctx or ctx
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=ctx)
        while (until() if until else len(self.statuses) + len(self.errors) < count):
            try:
                conn.request("POST", self.path, body=self.body, headers=XML)
                r = conn.getresponse()
                text = r.read().decode(errors="replace")
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=ctx)
                continue
            self.statuses.append((r.status, text if r.status != 200 else ""))
            if r.status == 200:
                self.certs.append(element(text, self.elem))
            time.sleep(pause)
        conn.close()


def root_with_client(tmp):
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    auth = Authority(tmp)
    prepare_appliance(nb.con)
    trust(nb.con, auth)
    enroll_offline(nb.con, auth)
    key, cert = os.path.join(tmp, "cli.key"), os.path.join(tmp, "cli.pem")
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", cert, "-subj", "/CN=concurrent", "-days", "2")
    fp = hashlib.sha256(ssl("x509", "-in", cert, "-outform", "DER")).hexdigest()
    nb.con.command("acl grant %s concurrent" % ":".join(fp[i:i + 2] for i in range(0, 64, 2)))
    org = Org(tmp, nb.con)  # its users may certify
    return tok, nb, auth, https_context(cert, key), org


def verify(tmp, con, auth, der, name):
    """openssl accepts the certificate against the authority root, through the root's SLC."""
    leaf, slc = os.path.join(tmp, name + ".pem"), os.path.join(tmp, "slc.pem")
    with open(leaf, "wb") as f:
        f.write(ssl("x509", "-inform", "DER", "-outform", "PEM", inp=der))
    with open(slc, "w") as f:
        f.write(pem_blocks(con.command("slc export"))[0])
    anchor = os.path.join(tmp, "anchor.pem")
    with open(anchor, "w") as f:
        f.write(auth.root_text())
    res = subprocess.run(["openssl", "verify", "-CAfile", anchor, "-untrusted", slc, leaf],
                         capture_output=True, text=True, timeout=30)
    check(res.returncode == 0, "openssl verify (%s): %s" % (name, res.stdout + res.stderr), con)


def test_concurrent_clients_each_get_their_own_certificate(tmp):
    tok, nb, auth, ctx, org = root_with_client(tmp)
    con = nb.con
    reqs = [Requester(tmp, i, org) for i in range(CLIENTS)]
    threads = [threading.Thread(target=r.run, args=(nb.https_port, ctx, EACH)) for r in reqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    check(not any(t.is_alive() for t in threads), "a client hung", con)
    for r in reqs:
        check(not r.errors, "%s: transport errors %s" % (r.name, r.errors[:2]), con)
        bad = [s for s in r.statuses if s[0] != 200]
        check(not bad, "%s: refused %s" % (r.name, bad[:2]), con)
        check(len(r.certs) == EACH, "%s: %d certificates for %d requests" %
              (r.name, len(r.certs), EACH), con)
        wrong = [c for c in r.certs if not c or not r.mine(c)]
        check(not wrong, "%s got %d certificates that are not for its own request" %
              (r.name, len(wrong)), con)
        check(len(set(r.certs)) == EACH, "%s: repeated certificates" % r.name, con)
        verify(tmp, con, auth, r.certs[0], "first-%s" % r.name)
        verify(tmp, con, auth, r.certs[-1], "last-%s" % r.name)
    status = json.loads(https_get(nb.https_port, "/v1/status")[1])
    subs = sum(len(r.certs) for r in reqs if r.path == "/v1/subenroll")
    certs = sum(len(r.certs) for r in reqs if r.path == "/v1/certify")
    check(status["issued"]["subenrolled"] == subs and status["issued"]["certified"] == certs,
          "counters %s, expected %d sub-enrolled and %d certified" %
          (status["issued"], subs, certs), con)
    # The console shares the token link with the answers under way: it still answers.
    check("token link: up" in con.command("status"), "the link should be up", con)
    auth.close()
    tok.close()


def test_token_server_lost_under_concurrent_signing(tmp):
    tok, nb, auth, ctx, org = root_with_client(tmp)
    con = nb.con
    reqs = [Requester(tmp, i, org) for i in range(4)]
    stop_at = [time.monotonic() + 60]
    threads = [threading.Thread(target=r.run, args=(nb.https_port, ctx, 0, 0.02),
                                kwargs={"until": lambda: time.monotonic() < stop_at[0]})
               for r in reqs]
    for t in threads:
        t.start()
    time.sleep(0.5)
    tok.stop()  # the server and its per-connection child are gone, signatures under way with them
    time.sleep(0.5)
    tok.start()
    stop_at[0] = time.monotonic() + 4  # the link is back within APP_RELINK_MS; then some more
    for t in threads:
        t.join(240)
    check(not any(t.is_alive() for t in threads), "a client hung after the token was lost", con)
    answers = [s for r in reqs for s in r.statuses]
    refused = [s for s in answers if s[0] != 200]
    check(all(s[0] == 503 and s[1].count("\n") == 1 and s[1].strip() for s in refused),
          "refusals must be 503 with one reason line: %s" % refused[:3], con)
    for r in reqs:
        check(not r.errors, "%s: transport errors %s" % (r.name, r.errors[:2]), con)
        wrong = [c for c in r.certs if not c or not r.mine(c)]
        check(not wrong, "%s got a certificate that is not its own" % r.name, con)
        # Issuing resumed: the last answers are certificates again.
        check(r.statuses and r.statuses[-1][0] == 200,
              "%s: issuing did not resume after the restart: %s" % (r.name, r.statuses[-3:]), con)
        verify(tmp, con, auth, r.certs[-1], "after-%s" % r.name)
    out = con.command("status")
    check("token link: up, 2 connects" in out, "status should show the reconnect: %r" % out, con)
    auth.close()
    tok.close()
