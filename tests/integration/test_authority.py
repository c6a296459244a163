"""signet-authority, the enrollment authority (docs/requirements.md R2-R6, R10, R11), against a
real SoftHSM2 token in the test's temporary directory.

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

from harness import ROOT, Console, check
from hsm import USER_PIN, Token
from signing import other_stacks_read, private_key_report

AUTHORITY = os.path.join(ROOT, "build", "tools", "signet-authority")
KEY_ID = "signet-authority-root"
URL = "https://rms.example.test/"
# The private arc (docs/certificates.md); openssl prints unknown extensions by their OID.
ARC = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"


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


def request_xml(key_spki, pop, kind="enrollment", name="root1", url=URL, sku="SIGNET-ROOT",
                version="0.1.0", revoker=None, doctype=False):
    """A SignetRequest document as docs/protocol.md defines it."""
    revocation = ('<Revocation type="custom"><RevokerPublicKey>%s</RevokerPublicKey></Revocation>'
                  % b64(revoker) if revoker else '<Revocation type="standard"/>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ('<!DOCTYPE SignetRequest [<!ENTITY x "y">]>\n' if doctype else "")
            + '<SignetRequest version="1" kind="%s">\n' % kind
            + '  <ServerName>%s</ServerName>\n  <ClusterUrl>%s</ClusterUrl>\n' % (name, url)
            + '  <Sku>%s</Sku>\n  <Version>%s</Version>\n  %s\n' % (sku, version, revocation)
            + '  <PublicKey>%s</PublicKey>\n' % b64(key_spki)
            + '  <ProofOfPossession>%s</ProofOfPossession>\n' % b64(pop)
            + '</SignetRequest>\n')


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
    slc = root.find("ServerLicensorCertificate")
    chain = root.find("Chain")
    check(root.tag == "SignetResponse" and slc is not None and chain is not None,
          "not a SignetResponse with an SLC and a chain:\n%s" % xml_text[:400])
    return (base64.b64decode("".join(slc.text.split())),
            [base64.b64decode("".join(c.text.split())) for c in chain.findall("Certificate")])


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
    other_stacks_read([slc_pem, chain_pem, au.root])
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
    read = other_stacks_read([au.root])
    check(ARC + ".1" in read, "python3-cryptography does not see the rights extension: " + read)
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


def test_issue_answers_ec_and_rsa_requests_with_chains_openssl_verifies(tmp):
    au = Authority(tmp)
    au.init()
    # EC P-256, standard revocation, bare XML in and out.
    ec = Key(tmp, "ec", "ec")
    with open(au.path("ec-req.xml"), "w") as f:
        f.write(request_xml(ec.spki, ec.csr()))
    out = au.ok("issue", "--in", au.path("ec-req.xml"), "--out", au.path("ec-resp.xml"))
    check(re.match(r"issued enrollment SLC: CN=root1, O=Signet root cluster serial [0-9a-f]{32} "
                   r"notAfter \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$", out), "summary line: %r" % out)
    with open(au.path("ec-resp.xml")) as f:
        text = verify_response(au, f.read(), "ec")
    for want in ("Subject: O = Signet root cluster, CN = root1", "URI:" + URL,
                 "CA:TRUE, pathlen:1", "Issuer: O = Signet, CN = Signet Enrollment Authority",
                 ARC + ".1", ARC + ".3", "ASN1 OID: prime256v1"):
        check(want in text, "the SLC lacks %r:\n%s" % (want, text))
    check(ARC + ".4" not in text, "standard revocation must not carry a revoker key")
    check(abs(validity_days(text) - 365) < 0.01, "default validity is not 365 days:\n" + text)
    # RSA-2048 with custom revocation, armored in and out, --days 30.
    rsa, revoker = Key(tmp, "rsa", "rsa2048"), Key(tmp, "revoker", "ec")
    req = request_xml(rsa.spki, rsa.csr(), revoker=revoker.spki).encode()
    with open(au.path("rsa-req.txt"), "w") as f:
        f.write("pasted from the console:\n" + armor("SIGNET ENROLLMENT REQUEST", req))
    au.ok("issue", "--in", au.path("rsa-req.txt"), "--out", au.path("rsa-resp.txt"), "--armor",
          "--days", "30")
    with open(au.path("rsa-resp.txt")) as f:
        armored = f.read()
    check(armored.startswith("-----BEGIN SIGNET ENROLLMENT RESPONSE-----\n") and
          all(len(line) <= 64 for line in armored.splitlines()[1:-1]), "armor:\n" + armored[:300])
    text = verify_response(au, unarmor("SIGNET ENROLLMENT RESPONSE", armored).decode(), "rsa")
    check("Public-Key: (2048 bit)" in text and ARC + ".4" in text,
          "RSA SLC with a revoker key:\n" + text)
    check(abs(validity_days(text) - 30) < 0.01, "--days 30 not honoured:\n" + text)
    # A renewal: the same key, a fresh SLC; the summary says so.
    ren = armor("SIGNET RENEWAL REQUEST", request_xml(ec.spki, ec.csr(), kind="renewal").encode())
    with open(au.path("renew.txt"), "w") as f:
        f.write(ren)
    out = au.ok("issue", "--in", au.path("renew.txt"), "--out", au.path("renew-resp.xml"))
    check(out.startswith("issued renewal SLC: CN=root1"), "renewal summary: %r" % out)
    with open(au.path("renew-resp.xml")) as f:
        verify_response(au, f.read(), "renewal")


def test_issue_refuses_bad_requests_in_one_line_and_writes_nothing(tmp):
    au = Authority(tmp)
    au.init()
    ec, other, weak = Key(tmp, "ec", "ec"), Key(tmp, "other", "rsa2048"), Key(tmp, "weak", "rsa1024")
    pop = ec.csr()
    tampered = bytearray(pop)
    tampered[-3] ^= 0x01  # inside the signature
    good = request_xml(ec.spki, pop)
    full = armor("SIGNET ENROLLMENT REQUEST", good.encode())
    cases = [
        ("pop-other-key", request_xml(ec.spki, other.csr()), "proof of possession"),
        ("pop-tampered", request_xml(ec.spki, bytes(tampered)), "proof of possession"),
        ("subenrollment", request_xml(ec.spki, pop, kind="subenrollment"), "sub-enrollment"),
        ("rsa1024", request_xml(weak.spki, weak.csr()), "RSA 2048"),
        ("doctype", request_xml(ec.spki, pop, doctype=True), ""),
        ("truncated-armor", full[:len(full) // 2], ""),
    ]
    for name, body, want in cases:
        req, out = au.path(name + ".req"), au.path(name + ".resp")
        with open(req, "w") as f:
            f.write(body)
        line = au.refused(out, "issue", "--in", req, "--out", out)
        check(want in line, "%s: the reason should mention %r: %s" % (name, want, line))
    with open(au.path("good.req"), "w") as f:
        f.write(good)
    out = au.path("nopin.resp")
    line = au.refused(out, "issue", "--in", au.path("good.req"), "--out", out, pin=None)
    check("no PIN" in line, "missing PIN: " + line)
    line = au.refused(out, "issue", "--in", au.path("good.req"), "--out", out, pin="99999999")
    check("PIN incorrect" in line and "99999999" not in line, "wrong PIN: " + line)
    # The PIN file is the other way in; the good request still passes after all of the above.
    with open(au.path("pin"), "w") as f:
        f.write(USER_PIN + "\n")
    au.ok("issue", "--in", au.path("good.req"), "--out", out, "--pin-file", au.path("pin"),
          pin=None)


def curl(url, body=None, out=None, extra=()):
    """(status, body text) from curl; body is posted from a file."""
    argv = ["curl", "-sS", "-o", out or os.devnull, "-w", "%{http_code}", "--max-time", "30"]
    argv += list(extra)
    if body is not None:
        argv += ["-H", "Content-Type: application/xml", "--data-binary", "@" + body]
    res = subprocess.run(argv + [url], capture_output=True, text=True, timeout=60)
    check(res.returncode == 0, "curl %s failed: %s" % (url, res.stderr))
    text = ""
    if out:
        with open(out, "rb") as f:
            text = f.read().decode("utf-8", "replace")  # a CRL is binary; it is read from out
    return int(res.stdout), text


def test_serve_enrolls_over_http_and_outlives_bad_clients(tmp):
    au = Authority(tmp)
    au.init()
    ec, sub = Key(tmp, "ec", "ec"), Key(tmp, "sub", "ec")
    tampered = bytearray(ec.csr())
    tampered[-3] ^= 0x01
    files = {"good": request_xml(ec.spki, ec.csr()),
             "bad": request_xml(ec.spki, bytes(tampered)),
             "sub": request_xml(sub.spki, sub.csr(), kind="subenrollment"),
             "big": "x" * (1 << 20)}
    for name, body in files.items():
        with open(au.path(name + ".body"), "w") as f:
            f.write(body)
    srv = Console([AUTHORITY, "serve", "--listen", "127.0.0.1:0", "--days", "30"], "authority",
                  env=au.env())
    port = int(srv.expect(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
    base = "http://127.0.0.1:%d" % port
    resp = au.path("resp.out")

    status, body = curl(base + "/health", out=resp)
    check(status == 200 and body == "ok\n", "health: %d %r" % (status, body), srv)
    status, body = curl(base + "/v1/enroll", au.path("good.body"), resp)
    check(status == 200, "enroll: %d %r" % (status, body), srv)
    check(abs(validity_days(verify_response(au, body, "online")) - 30) < 0.01,
          "--days 30 not honoured online")
    status, body = curl(base + "/v1/enroll", au.path("bad.body"), resp)
    check(status == 400 and "proof of possession" in body and body.count("\n") == 1,
          "tampered proof: %d %r" % (status, body), srv)
    status, body = curl(base + "/v1/enroll", au.path("sub.body"), resp)
    check(status == 403 and "sub-enrollment" in body, "sub-enrollment: %d %r" % (status, body), srv)
    status, body = curl(base + "/v1/enroll", au.path("big.body"), resp)
    check(status == 413, "1 MB body: %d %r" % (status, body), srv)
    # The same without waiting for 100 Continue: the body is on its way when 413 comes back.
    status, body = curl(base + "/v1/enroll", au.path("big.body"), resp, extra=["-H", "Expect:"])
    check(status == 413, "1 MB body sent at once: %d %r" % (status, body), srv)
    # A slow client is cut off after the request time-out (10 s), then service goes on.
    slow = socket.create_connection(("127.0.0.1", port), timeout=30)
    slow.sendall(b"POST /v1/enroll HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    status, _ = curl(base + "/health")
    waited = time.monotonic() - t0
    answer = slow.recv(4096).decode("ascii", "replace")
    slow.close()
    check(status == 200 and waited < 15 and answer.startswith("HTTP/1.1 408"),
          "slow client: health after %.1fs, slow client got %r" % (waited, answer[:60]), srv)
    status, body = curl(base + "/v1/enroll", au.path("good.body"), resp)
    check(status == 200, "enroll after the bad clients: %d %r" % (status, body), srv)
    verify_response(au, body, "online-again")
    srv.expect(r'"POST /v1/enroll" 200 issued CN=root1 serial [0-9a-f]{32} notAfter')
    srv.signal(signal.SIGTERM)
    check(srv.wait_exit(10) == 0, "serve did not exit cleanly on SIGTERM", srv)
    srv.expect("stopped by SIGTERM")


# ---- revocation: the issuance log, revoke, crl, GET /v1/crl ----

CRL_URL = "http://authority.example.test/v1/crl"


def issue_one(au, name, alg="ec", extra=()):
    """Issue an SLC for a fresh key; (serial hex, SLC PEM path)."""
    key = Key(au.tmp, name, alg)
    with open(au.path(name + "-req.xml"), "w") as f:
        f.write(request_xml(key.spki, key.csr(cn=name), name=name))
    out = au.ok("issue", "--in", au.path(name + "-req.xml"), "--out",
                au.path(name + "-resp.xml"), *extra)
    serial = re.search(r"serial ([0-9a-f]{32})", out).group(1)
    slc, _ = response_certs(open(au.path(name + "-resp.xml")).read())
    path = au.path(name + "-slc.pem")
    with open(path, "w") as f:
        f.write(pem(slc))
    return serial, path


def crl_text(au, path, form="DER"):
    """openssl crl -verify against the root: the CRL's text (fails the test unless verified)."""
    res = subprocess.run(["openssl", "crl", "-inform", form, "-in", path, "-CAfile", au.root,
                          "-noout", "-text"], capture_output=True, text=True, timeout=60)
    check(res.returncode == 0 and "verify OK" in res.stderr + res.stdout,
          "openssl crl did not verify %s:\n%s%s" % (path, res.stdout, res.stderr))
    return res.stdout


def verify_with_crl(au, cert, crl_pem):
    return subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", au.root, "-CRLfile",
                           crl_pem, cert], capture_output=True, text=True, timeout=60)


def test_revoke_and_crl_openssl_checks_and_refusals(tmp):
    au = Authority(tmp)
    au.init()
    t0 = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    s1, slc1 = issue_one(au, "alpha", extra=("--crl-url", CRL_URL))
    s2, slc2 = issue_one(au, "beta", "rsa2048")
    text1 = openssl("x509", "-in", slc1, "-noout", "-text").decode()
    check("CRL Distribution Points" in text1 and "URI:" + CRL_URL in text1,
          "--crl-url did not put a CDP into the SLC:\n" + text1)
    text2 = openssl("x509", "-in", slc2, "-noout", "-text").decode()
    check("CRL Distribution Points" not in text2, "an SLC without --crl-url carries a CDP")
    # Backdated: notBefore about X509_BACKDATE_SECS (300 s) before it was issued.
    nb = datetime.datetime.strptime(re.search(r"Not Before: (.+ GMT)", text1).group(1).strip(),
                                    "%b %d %H:%M:%S %Y GMT")
    check(240 <= (t0 - nb).total_seconds() <= 330, "notBefore %s not backdated ~300 s from %s"
          % (nb, t0))
    # The first CRL: number 1, nothing revoked, verified with the root.
    out = au.ok("crl", "--out", au.path("crl1.der"))
    check(re.match(r"CRL number 1: 0 revoked, nextUpdate \d{4}-\d\d-\d\dT", out), out)
    text = crl_text(au, au.path("crl1.der"))
    check("No Revoked Certificates" in text and re.search(r"X509v3 CRL Number: *\n *1\b", text),
          "first CRL:\n" + text)
    # Refusals change nothing: a serial not ours, a bad serial, a bad reason, no PIN.
    for args, want in [((("%032x" % (0x40 << 120 | 7)),), "not a serial this authority issued"),
                       (("12345",), "32 hex digits"),
                       ((s1, "--reason", "keycompromise"), "--reason"),
                       ((s1, "--reason", "removeFromCRL"), "--reason")]:
        line = au.refused(au.path("none"), "revoke", *args)
        check(want in line, "revoke %s: %r" % (args, line))
    line = au.refused(au.path("none"), "revoke", s1, pin=None)
    check("no PIN" in line, line)
    out = au.ok("revoke", s1.upper(), "--reason", "keyCompromise")
    check(out.startswith("revoked %s (keyCompromise)" % s1.upper()), out)
    line = au.refused(au.path("none"), "revoke", s1)
    check("already revoked (keyCompromise)" in line, line)
    # The next CRL lists it with its reason, as PEM, for 48 hours.
    out = au.ok("crl", "--out", au.path("crl2.pem"), "--pem", "--hours", "48")
    check(out.startswith("CRL number 2: 1 revoked"), out)
    text = crl_text(au, au.path("crl2.pem"), "PEM")
    check(("Serial Number: " + s1.upper()) in text and "Key Compromise" in text,
          "CRL 2 lacks the revoked SLC:\n" + text)
    dates = [datetime.datetime.strptime(re.search(r"%s: (.+ GMT)" % k, text).group(1).strip(),
                                        "%b %d %H:%M:%S %Y GMT")
             for k in ("Last Update", "Next Update")]
    check(abs((dates[1] - dates[0]).total_seconds() - 48 * 3600 - 300) < 5,
          "--hours 48 with thisUpdate backdated 300 s: %s" % dates)
    # Relying parties: openssl verify -crl_check refuses the revoked SLC, accepts the other.
    res = verify_with_crl(au, slc1, au.path("crl2.pem"))
    check(res.returncode != 0 and "certificate revoked" in res.stdout + res.stderr,
          "openssl verify accepted the revoked SLC:\n%s%s" % (res.stdout, res.stderr))
    res = verify_with_crl(au, slc2, au.path("crl2.pem"))
    check(res.returncode == 0, "openssl verify refused the SLC in force:\n%s%s"
          % (res.stdout, res.stderr))
    # python3-cryptography reads it the same way.
    script = ("import sys\nfrom cryptography import x509\n"
              "crl = x509.load_pem_x509_crl(open(sys.argv[1], 'rb').read())\n"
              "root = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())\n"
              "assert crl.is_signature_valid(root.public_key())\n"
              "print(' '.join('%032x' % r.serial_number for r in crl))\n")
    res = subprocess.run(["/usr/bin/python3", "-c", script, au.path("crl2.pem"), au.root],
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 0 and res.stdout.split() == [s1],
          "python3-cryptography: %s%s" % (res.stdout, res.stderr))


def test_issuance_log_survives_a_stale_generation_and_garbage_beside_it(tmp):
    """A crash between writing the new record and destroying the old leaves both: the higher
    generation counts. An object that does not decode changes nothing."""
    au = Authority(tmp)
    au.init()
    s1, _ = issue_one(au, "alpha")
    old = au.path("gen-old.bin")
    rc, out = au.token.pkcs11_tool("--read-object", "--type", "data", "--label",
                                   "signet-authority-issued", "--output-file", old)
    check(rc == 0 and os.path.getsize(old) > 0, "could not read the log:\n" + out)
    s2, _ = issue_one(au, "beta")
    au.ok("revoke", s2, "--reason", "superseded")
    # Put the older generation back beside the new one, and garbage too.
    garbage = au.path("garbage.bin")
    with open(garbage, "wb") as f:
        f.write(b"SAL1" + os.urandom(200))
    for f in (old, garbage):
        rc, out = au.token.pkcs11_tool("--write-object", f, "--type", "data", "--label",
                                       "signet-authority-issued", "--private")
        check(rc == 0, "pkcs11-tool --write-object: " + out)
    out = au.ok("crl", "--out", au.path("crl.pem"), "--pem")
    check(out.startswith("CRL number 1: 1 revoked"), out)
    text = crl_text(au, au.path("crl.pem"), "PEM")
    check(("Serial Number: " + s2.upper()) in text and "Superseded" in text, text)
    # Both serials are still known (the newest record), and the next change cleans up.
    line = au.refused(au.path("none"), "revoke", s2)
    check("already revoked" in line, line)
    au.ok("revoke", s1)
    rc, out = au.token.pkcs11_tool("--list-objects", "--type", "data")
    check(rc == 0 and out.count("signet-authority-issued") == 1,
          "stale log objects were not removed:\n" + out)
    out = au.ok("crl", "--out", au.path("crl3.der"))
    check(out.startswith("CRL number 2: 2 revoked"), out)


def test_serve_answers_the_current_crl(tmp):
    au = Authority(tmp)
    au.init()
    s1, slc1 = issue_one(au, "alpha")
    srv = Console([AUTHORITY, "serve", "--listen", "127.0.0.1:0", "--hours", "2", "--crl-url",
                   CRL_URL], "authority", env=au.env())
    port = int(srv.expect(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
    base = "http://127.0.0.1:%d" % port
    hdr = au.path("hdr.txt")
    status, _ = curl(base + "/v1/crl", out=au.path("a.der"), extra=["-D", hdr])
    check(status == 200 and "application/pkix-crl" in open(hdr).read().lower(),
          "GET /v1/crl: %d %s" % (status, open(hdr).read()), srv)
    text = crl_text(au, au.path("a.der"))
    check("No Revoked Certificates" in text, text)
    srv.expect(r'"GET /v1/crl" 200 CRL number 1, 0 revoked \(signed\)')
    # Nothing changed: the same CRL again, not a new number.
    status, _ = curl(base + "/v1/crl", out=au.path("b.der"))
    check(status == 200 and open(au.path("a.der"), "rb").read() ==
          open(au.path("b.der"), "rb").read(), "an unchanged CRL was signed again", srv)
    # A revocation made beside the running server shows at the next request.
    au.ok("revoke", s1, "--reason", "cessationOfOperation")
    status, _ = curl(base + "/v1/crl", out=au.path("c.der"))
    text = crl_text(au, au.path("c.der"))
    check(status == 200 and ("Serial Number: " + s1.upper()) in text and
          "Cessation Of Operation" in text, "the served CRL lacks the revocation:\n" + text, srv)
    srv.expect(r'"GET /v1/crl" 200 CRL number 2, 1 revoked \(signed\)')
    status, body = curl(base + "/v1/crl", au.path("hdr.txt"), au.path("post.out"))
    check(status == 405, "POST /v1/crl: %d %r" % (status, body), srv)
    # SLCs issued online carry the CDP.
    key = Key(tmp, "online", "ec")
    with open(au.path("online.body"), "w") as f:
        f.write(request_xml(key.spki, key.csr(), name="online"))
    status, body = curl(base + "/v1/enroll", au.path("online.body"), au.path("resp.out"))
    check(status == 200 and "URI:" + CRL_URL in verify_response(au, body, "online"),
          "online SLC without the CDP: %d" % status, srv)
    srv.signal(signal.SIGTERM)
    check(srv.wait_exit(10) == 0, "serve did not exit cleanly on SIGTERM", srv)
