"""signet-client, the user's side of rights management (docs/client.md), without an appliance.

What runs offline is driven directly: keygen, the PKCS#10 it makes (judged by `openssl req
-verify`), `show` on certificates the real signet-authority issues, command-line errors.

The network commands run against a stub of the appliance's three endpoints, written here in
Python, independently of our C code: an HTTPS server (ssl module, a self-signed certificate made
by the openssl CLI, pinned by the client through its SHA-256 fingerprint) that issues RACs and
licenses after docs/certificates.md (ARC.5 kind, ARC.6 content; DER written here, signed with
`cryptography`'s RSA) and answers /v1/license with 403 when the policy does not name the caller. The stub keeps each content
key, so the test decrypts FILE.signet itself and checks the file format byte for byte. With an
organisation's user CA (tests/lib/identity.py) the stub asks for a TLS client certificate, as the
appliance does, and answers 401/403 like it: the identity tests check what the client presents
(--id-cert, --id-key: the leaf and its intermediates) and its own errors before any connection.
The three-tier test against the real appliance lives elsewhere (it needs the licensing endpoints).
"""
import base64
import datetime
import http.server
import os
import re
import ssl
import stat
import subprocess
import threading
import xml.etree.ElementTree as ET

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtensionOID, NameOID

import harness
from enrollment import Authority
from harness import ROOT, check
from identity import OrgCA

CLIENT = os.path.join(ROOT, os.environ.get("SIGNET_CLIENT_BIN", "build/tools/signet-client"))
ARC = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
RIGHTS = {"sub-enroll": 1, "certify": 2, "issue-use": 3, "issue-publish": 4}
KIND = {"rac": 1, "publishing": 2, "use": 3}
GRANTS = ["view", "edit", "print", "export", "forward", "owner"]
MAGIC = b"SIGNET1\n"


def run(*args, cwd=None):
    res = subprocess.run([CLIENT] + list(args), capture_output=True, text=True, timeout=60,
                         cwd=cwd)
    return res.returncode, res.stdout, res.stderr


def ok(*args, **kw):
    rc, out, err = run(*args, **kw)
    check(rc == 0, "signet-client %s failed (%d):\n%s%s" % (" ".join(args), rc, out, err))
    check(len(out.splitlines()) == 1 or args[0] == "show",
          "want one line on success, got:\n" + out)
    return out


def refused(*args, must_not_exist=(), code=1):
    """Exit code `code`, one line 'error: ...' on stderr, nothing on stdout, no file written."""
    rc, out, err = run(*args)
    lines = err.splitlines()
    check(rc == code, "signet-client %s: exit %d, want %d:\n%s%s"
          % (" ".join(args), rc, code, out, err))
    check(len(lines) == 1 and lines[0].startswith("error: ") and out == "",
          "want one 'error:' line, got stdout %r stderr %r" % (out, err))
    for path in must_not_exist:
        check(not os.path.exists(path), "%s was written despite the refusal" % path)
        left = leftovers(os.path.dirname(path))
        check(not left, "temporary files left behind: %s" % left)
    return lines[0]


def leftovers(directory):
    """The tool's temporary files (NAME.XXXXXX from mkstemp) in directory."""
    return [f for f in os.listdir(directory)
            if re.search(r"\.[A-Za-z0-9]{6}$", f) and not f.endswith(".signet")]


def openssl(*args, data=None):
    res = subprocess.run(["openssl"] + list(args), input=data, capture_output=True, timeout=60)
    check(res.returncode == 0, "openssl %s failed:\n%s" % (" ".join(args), res.stderr.decode()))
    return res.stdout.decode(errors="replace")


def keygen(tmp, name):
    path = os.path.join(tmp, name + ".key")
    ok("keygen", "--key", path)
    return path


# ---- offline ----

def test_keygen_writes_a_private_rsa_key_and_never_overwrites(tmp):
    key = os.path.join(tmp, "alice.key")
    out = ok("keygen", "--key", key)
    check(key in out, "keygen does not name the file: " + out)
    mode = stat.S_IMODE(os.stat(key).st_mode)
    check(mode == 0o600, "key mode is %o, not 600" % mode)
    text = openssl("pkey", "-in", key, "-noout", "-text")
    check("Private-Key: (2048 bit" in text, "not an RSA-2048 private key:\n" + text[:200])
    openssl("rsa", "-in", key, "-check", "-noout")
    with open(key, "rb") as f:
        before = f.read()
    line = refused("keygen", "--key", key)
    check("exists" in line, "second keygen: " + line)
    with open(key, "rb") as f:
        check(f.read() == before, "the existing key was changed")
    check(sorted(os.listdir(tmp)) == ["alice.key"], "files left behind: %s" % os.listdir(tmp))
    # A key others can read is refused, as ssh does.
    os.chmod(key, 0o644)
    line = refused("request", "--key", key, "--name", "alice@contoso.example", "--out",
                   os.path.join(tmp, "csr.der"), must_not_exist=[os.path.join(tmp, "csr.der")])
    check("chmod 600" in line, "group-readable key: " + line)
    # Not a key at all.
    junk = os.path.join(tmp, "junk.key")
    with open(junk, "w") as f:
        f.write("hello\n")
    os.chmod(junk, 0o600)
    refused("request", "--key", junk, "--name", "a", "--out", os.path.join(tmp, "x.der"),
            must_not_exist=[os.path.join(tmp, "x.der")])


def test_request_is_a_pkcs10_that_openssl_verifies(tmp):
    key = keygen(tmp, "alice")
    csr = os.path.join(tmp, "alice.csr")
    ok("request", "--key", key, "--name", "alice@contoso.example", "--out", csr)
    res = subprocess.run(["openssl", "req", "-inform", "DER", "-in", csr, "-verify", "-noout",
                          "-subject", "-nameopt", "RFC2253"], capture_output=True, text=True)
    check(res.returncode == 0 and "verify OK" in res.stdout + res.stderr,
          "openssl req -verify refused the request:\n" + res.stdout + res.stderr)
    check("subject=CN=alice@contoso.example" in res.stdout, "subject: " + res.stdout)
    req_pub = openssl("req", "-inform", "DER", "-in", csr, "-noout", "-pubkey")
    key_pub = openssl("pkey", "-in", key, "-pubout")
    check(req_pub == key_pub, "the request does not carry the key's public half")
    text = openssl("req", "-inform", "DER", "-in", csr, "-noout", "-text")
    check("sha256WithRSAEncryption" in text, "request not signed RSA/SHA-256:\n" + text)
    for bad in ("", " alice", "alice ", "a" * 65, "tab\there"):
        refused("request", "--key", key, "--name", bad, "--out", os.path.join(tmp, "bad.der"),
                must_not_exist=[os.path.join(tmp, "bad.der")], code=2 if bad == "" else 1)


def enrollment_request(tmp):
    """An armored SignetRequest built with openssl, after docs/protocol.md."""
    key = os.path.join(tmp, "slc.key")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          capture_output=True, check=True).stdout
    pop = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=root1", "-outform",
                          "DER"], capture_output=True, check=True).stdout
    b64 = lambda d: base64.b64encode(d).decode()  # noqa: E731
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<SignetRequest version="1" kind="enrollment">'
           '<ServerName>root1</ServerName><ClusterUrl>https://rms.example.test/</ClusterUrl>'
           '<Sku>SIGNET-ROOT</Sku><Version>0.1.0</Version><Revocation type="standard"/>'
           '<PublicKey>%s</PublicKey><ProofOfPossession>%s</ProofOfPossession></SignetRequest>\n'
           % (b64(spki), b64(pop)))
    text = base64.b64encode(xml.encode()).decode()
    body = "\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return ("-----BEGIN SIGNET ENROLLMENT REQUEST-----\n%s\n"
            "-----END SIGNET ENROLLMENT REQUEST-----\n" % body)


def test_show_reads_what_the_authority_issues(tmp):
    au = Authority(tmp)
    out = ok("show", au.root_pem)
    check(re.search(r"^kind: +certificate \(CA\)$", out, re.M), "root kind:\n" + out)
    check(re.search(r"^subject: .*CN=Signet Enrollment Authority", out, re.M), "subject:\n" + out)
    check("sub-enroll, certify, issue-use-licenses, issue-publishing-licenses" in out,
          "root rights:\n" + out)
    check(re.search(r"^valid: +\d{4}-\d\d-\d\dT[\d:]+Z to \d{4}-", out, re.M), "validity:\n" + out)
    rc, resp = au.issue(enrollment_request(tmp))
    check(rc == 0, "issue failed:\n" + resp)
    m = re.search(r"-----BEGIN SIGNET ENROLLMENT RESPONSE-----\n(.*?)-----END", resp, re.S)
    root = ET.fromstring(base64.b64decode("".join(m.group(1).split())))
    ders = [base64.b64decode("".join(root.find("ServerLicensorCertificate").text.split()))]
    ders += [base64.b64decode("".join(c.text.split()))
             for c in root.find("Chain").findall("Certificate")]
    bundle = os.path.join(tmp, "slc.pem")
    with open(bundle, "w") as f:
        f.write("".join(pem(d) for d in ders))
    out = ok("show", "--anchor", au.root_pem, bundle)
    check(re.search(r"^subject: .*CN=root1", out, re.M), "SLC subject:\n" + out)
    check("cluster url: https://rms.example.test/" in out, "SLC URL:\n" + out)
    check(re.search(r"^chain: +CN=Signet Enrollment Authority \(CA\)$", out, re.M), out)
    check(re.search(r"^verified: ", out, re.M), "not verified against the anchor:\n" + out)
    der = os.path.join(tmp, "slc.der")
    with open(der, "wb") as f:
        f.write(ders[0])
    check("CN=root1" in ok("show", der), "show of a DER certificate")
    other = Authority(tmp, name="other")
    line = refused("show", "--anchor", other.root_pem, bundle)
    check("does not verify against the anchor" in line, "foreign anchor: " + line)
    with open(os.path.join(tmp, "cut.pem"), "w") as f:
        f.write(pem(ders[0])[:-40])
    refused("show", os.path.join(tmp, "cut.pem"))


def test_command_line_errors_are_one_line(tmp):
    key = keygen(tmp, "u")
    rac = os.path.join(tmp, "u.rac")
    url = "https://127.0.0.1:9"
    fp = ":".join(["AB"] * 32)
    for args, want in [
        ((), "no command"),
        (("frobnicate",), "unknown command"),
        (("keygen",), "keygen needs --key"),
        (("keygen", "--key", key, "--url", url), "does not apply"),
        (("certify", "--url", url, "--key", key, "--name", "u", "--rac", rac), "--insecure"),
        (("certify", "--url", url, "--key", key, "--name", "u", "--rac", rac, "--insecure",
          "--tls-fingerprint", fp), "--insecure"),
        (("certify", "--url", url, "--key", key, "--name", "u", "--rac", rac,
          "--tls-fingerprint", "AB:CD"), "--tls-fingerprint"),
        (("certify", "--url", "http://127.0.0.1:9", "--key", key, "--name", "u", "--rac", rac,
          "--insecure"), "https://"),
        (("certify", "--url", url + "/v1/x", "--key", key, "--name", "u", "--rac", rac,
          "--insecure"), "no path"),
        (("publish", "--url", url, "--rac", rac, "--grant", "bob:fly", "--pl", "p", "--ul", "u",
          "--insecure"), "rights are"),
        (("protect", "--url", url, "--key", key, "--rac", rac, "--insecure", "f"), "--grant"),
        (("show",), "needs a FILE"),
        (("show", "--crl", "x.crl", rac), "--crl needs --anchor"),
        (("show", "--now", "2026-12-02 15:04:05", rac), "--now wants a UTC time"),
        (("show", "--now", "2026-13-02T15:04:05Z", rac), "--now wants a UTC time"),
        (("show", "--anchor", rac, "--crl", "a", "--crl", "b", "--crl", "c", "--crl", "d",
          "--crl", "e", "--crl", "f", "--crl", "g", "--crl", "h", "--crl", "i", rac),
         "at most 8 --crl"),
    ]:
        rc, out, err = run(*args)
        check(rc in (1, 2) and err.startswith("error: ") and len(err.splitlines()) == 1
              and want in err and out == "",
              "signet-client %s: want one error line with %r, got %d %r %r"
              % (" ".join(args), want, rc, out, err))
    # Nobody listening: a network error, one line, nothing written.
    refused("certify", "--url", url, "--key", key, "--name", "u@x", "--rac", rac, "--insecure",
            must_not_exist=[rac])


# ---- against a stub of the appliance ----

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def oid_der(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray()
    for i, v in enumerate([parts[0] * 40 + parts[1]] + parts[2:]):
        chunk = [v & 0x7f]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def named_bits(rights):
    """DER BIT STRING of named bits (X.690 §11.2.2: trailing zero bits dropped)."""
    if rights == 0:
        return tlv(0x03, b"\x00")
    top = rights.bit_length()
    nbytes = (top + 7) // 8
    value = 0
    for bit in range(top):
        if rights >> bit & 1:
            value |= 1 << (nbytes * 8 - 1 - bit)
    return tlv(0x03, bytes([nbytes * 8 - top]) + value.to_bytes(nbytes, "big"))


def rights_bits(text):
    return sum(1 << GRANTS.index(r) for r in text.split(","))


def integer(v):
    return tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def name(cn):
    return tlv(0x30, tlv(0x31, tlv(0x30, oid_der("2.5.4.3") + tlv(0x0c, cn.encode()))))


def utc_time(t):
    return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


def extension(dotted, value, critical=False):
    return tlv(0x30, oid_der(dotted) + (b"\x01\x01\xff" if critical else b"") + tlv(0x04, value))


def content_ext(content_id, owner, wrapped, grants):
    body = tlv(0x04, content_id) + tlv(0x0c, owner.encode()) + tlv(0x04, wrapped)
    body += tlv(0x30, b"".join(tlv(0x30, tlv(0x0c, u.encode()) + named_bits(r))
                               for u, r in grants))
    return extension(ARC + ".6", tlv(0x30, body))


def pem(der):
    text = base64.b64encode(der).decode()
    return ("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n"
            % "\n".join(text[i:i + 64] for i in range(0, len(text), 64)))


SHA256_RSA = tlv(0x30, oid_der("1.2.840.113549.1.1.11") + b"\x05\x00")


class Appliance:
    """A root CA and a licensing CA below it (both with Signet rights) and the three endpoints.

    Certificates are DER written here (the profile's OIDs have 128-bit arcs, which older Python
    `cryptography` cannot even parse), signed RSA/SHA-256 with `cryptography`'s primitives."""

    def __init__(self, tmp, lic_rights=(2, 3, 4), identity_ca=None):
        """identity_ca: an OrgCA whose users the stub authenticates (TLS client certificates,
        verified up to its root by Python's ssl module), as the appliance does."""
        self.tmp = tmp
        self.identity_ca = identity_ca
        self.callers = []  # the user name each request was authenticated as (None: no identity)
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.root_key = rsa.generate_private_key(65537, 2048)
        self.root = self.cert("Test Authority", self.root_key.public_key(), self.root_key,
                              "Test Authority", ca=True, rights=list(RIGHTS.values()))
        self.lic_key = rsa.generate_private_key(65537, 2048)
        self.lic_cn = "licensing.contoso.example"
        self.lic = self.cert(self.lic_cn, self.lic_key.public_key(), self.root_key,
                             "Test Authority", ca=True, rights=list(lic_rights))
        self.ckek = rsa.generate_private_key(65537, 2048)  # the server's content-key key
        self.keys = {}  # content id -> content key
        self.published = {}  # PL DER -> (content id, owner, policy)
        self.racs = {}  # RAC DER -> (user, public key): what this stub certified
        self.requests = 0
        self.root_pem = os.path.join(tmp, "root.pem")
        with open(self.root_pem, "w") as f:
            f.write(pem(self.root))
        self.serve()

    def cert(self, cn, pub, key, issuer_cn, ca=False, rights=(), kind=None, content=None):
        spki = pub.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        serial = int.from_bytes(bytes([0x40 | os.urandom(1)[0] & 0x3f]) + os.urandom(15), "big")
        exts = [extension("2.5.29.19", tlv(0x30, b"\x01\x01\xff" if ca else b""), True)]
        if ca:  # keyCertSign, cRLSign
            exts.append(extension("2.5.29.15", b"\x03\x02\x01\x06", True))
        if rights:
            exts.append(extension(ARC + ".1", tlv(0x30, b"".join(
                oid_der("%s.2.%d" % (ARC, r)) for r in rights))))
        if kind:
            exts.append(extension(ARC + ".5", oid_der("%s.5.%d" % (ARC, KIND[kind]))))
        if content:
            exts.append(content)
        days = 365 * (5 if ca else 1)
        tbs = tlv(0x30, tlv(0xa0, integer(2)) + integer(serial) + SHA256_RSA + name(issuer_cn)
                  + tlv(0x30, utc_time(self.now - datetime.timedelta(hours=1))
                        + utc_time(self.now + datetime.timedelta(days=days)))
                  + name(cn) + spki + tlv(0xa3, tlv(0x30, b"".join(exts))))
        sig = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
        return tlv(0x30, tbs + SHA256_RSA + tlv(0x03, b"\x00" + sig))

    def chain_xml(self):
        return "<Chain>%s</Chain>" % "".join(
            "<Certificate>%s</Certificate>" % b64(c) for c in (self.lic, self.root))

    def issue_license(self, kind, holder_pub, holder_cn, content_id, owner, wrapped, grants):
        return self.cert(holder_cn, holder_pub, self.lic_key, self.lic_cn, kind=kind,
                         content=content_ext(content_id, owner, wrapped, grants))

    # -- endpoints: (status, body) --

    def certify(self, doc, caller=None):
        csr = x509.load_der_x509_csr(field(doc, "CertificateRequest"))
        if not csr.is_signature_valid:
            return 400, "bad proof of possession"
        cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        if caller and cn.lower() != caller.lower():
            return 403, "you are %s, the request names %s" % (caller, cn)
        cn = caller or cn
        rac = self.cert(cn, csr.public_key(), self.lic_key, self.lic_cn, kind="rac")
        self.racs[rac] = (cn, csr.public_key())
        return 200, ('<SignetCertifyResponse version="1"><RightsAccountCertificate>%s'
                     '</RightsAccountCertificate>%s</SignetCertifyResponse>'
                     % (b64(rac), self.chain_xml()))

    def rac(self, doc):
        known = self.racs.get(field(doc, "RightsAccountCertificate"))
        if known is None:
            raise ValueError("a RAC this stub did not issue")
        return known

    def publish(self, doc, caller=None):
        author, author_pub = self.rac(doc)
        grants = [(g.get("user"), rights_bits(g.get("rights")))
                  for g in doc.find("Policy").findall("Grant")]
        content_id, key = os.urandom(16), os.urandom(32)
        self.keys[content_id] = key
        pl = self.issue_license("publishing", self.ckek.public_key(), author, content_id, author,
                                oaep(self.ckek.public_key(), key), grants)
        self.published[pl] = (content_id, author, grants)
        ul = self.issue_license("use", author_pub, author, content_id, author,
                                oaep(author_pub, key), [(author, 1 << 5)])
        return 200, ('<SignetPublishResponse version="1"><PublishingLicense>%s</PublishingLicense>'
                     '<UseLicense>%s</UseLicense>%s</SignetPublishResponse>'
                     % (b64(pl), b64(ul), self.chain_xml()))

    def license(self, doc, caller=None):
        user, user_pub = self.rac(doc)
        published = self.published.get(field(doc, "PublishingLicense"))
        if published is None:
            return 400, "unknown publishing license"
        content_id, owner, grants = published
        rights = dict(grants).get(user)
        if rights is None:
            return 403, "not granted: the policy does not name %s" % user  # as the appliance
        ul = self.issue_license("use", user_pub, user, content_id, owner,
                                oaep(user_pub, self.keys[content_id]), [(user, rights)])
        return 200, ('<SignetLicenseResponse version="1"><UseLicense>%s</UseLicense>%s'
                     '</SignetLicenseResponse>' % (b64(ul), self.chain_xml()))

    def serve(self):
        cert, key = os.path.join(self.tmp, "tls.pem"), os.path.join(self.tmp, "tls.key")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=signet-appliance")
        out = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256")
        self.fingerprint = out.strip().split("=", 1)[1]
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                stub.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                route = {"/v1/certify": stub.certify, "/v1/publish": stub.publish,
                         "/v1/license": stub.license}.get(self.path)
                caller = stub.caller(self.connection)
                stub.callers.append(caller)
                try:
                    if stub.identity_ca and caller is None:
                        status, text = 401, UNAUTHENTICATED
                    elif stub.identity_ca and not caller:
                        status, text = 403, NAMELESS
                    elif route:
                        status, text = route(ET.fromstring(body), caller)
                    else:
                        status, text = 404, "no such resource"
                except Exception as e:  # a test failure shows as a 400 with the reason
                    status, text = 400, "stub: %r" % e
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml" if status == 200 else
                                 "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if self.identity_ca:  # only its root is trusted: intermediates must come from the client
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.load_verify_locations(self.identity_ca.pem)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        harness.LIVE.append(self)

    def caller(self, sock):
        """The user the TLS client certificate names (rfc822Name, else UPN); "" for a
        certificate that names nobody; None without one."""
        der = sock.getpeercert(binary_form=True) if self.identity_ca else None
        if not der:
            return None
        try:
            sans = x509.load_der_x509_certificate(der).extensions.get_extension_for_oid(
                ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        except x509.ExtensionNotFound:
            return ""
        emails = sans.get_values_for_type(x509.RFC822Name)
        upns = [o.value[2:].decode() for o in sans.get_values_for_type(x509.OtherName)
                if o.type_id.dotted_string == UPN_OID and o.value[:1] == b"\x0c"]
        return (emails or upns or [""])[0]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


UPN_OID = "1.3.6.1.4.1.311.20.2.3"
NAMELESS = "identity certificate names no user (no rfc822Name or UPN in subjectAltName)"
UNAUTHENTICATED = ("authenticate with your identity certificate (a TLS client certificate from "
                   "your organisation's user CA)")


def b64(der):
    return base64.b64encode(der).decode()


def field(doc, name):
    return base64.b64decode("".join(doc.find(name).text.split()))


def oaep(pub, key):
    return pub.encrypt(key, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))


def users(tmp, stub, *names):
    """keygen + certify for each name; {name: (key, rac)}."""
    out = {}
    for n in names:
        key = keygen(tmp, n)
        rac = os.path.join(tmp, n + ".rac")
        line = ok("certify", "--url", stub.url, "--tls-fingerprint", stub.fingerprint,
                  "--anchor", stub.root_pem, "--key", key, "--name", n + "@contoso.example",
                  "--rac", rac)
        check(line.startswith("certified %s@contoso.example" % n), "certify: " + line)
        out[n] = (key, rac)
    return out


def test_certify_writes_a_rac_bundle_openssl_verifies(tmp):
    stub = Appliance(tmp)
    key, rac = users(tmp, stub, "alice")["alice"]
    res = subprocess.run(["openssl", "verify", "-CAfile", stub.root_pem, "-untrusted", rac, rac],
                         capture_output=True, text=True)
    check(res.returncode == 0, "openssl verify refused the RAC bundle:\n" + res.stdout + res.stderr)
    check(openssl("x509", "-in", rac, "-noout", "-pubkey") == openssl("pkey", "-in", key, "-pubout"),
          "the RAC does not hold our key")
    out = ok("show", "--anchor", stub.root_pem, rac)
    for want in (r"^kind: +rights account certificate$", r"^subject: +CN=alice@contoso.example$",
                 r"^issuer: +CN=licensing.contoso.example$",
                 r"^chain: +CN=licensing.contoso.example \(CA\)$", r"^verified: "):
        check(re.search(want, out, re.M), "show RAC: no %r in:\n%s" % (want, out))
    # The TLS pin: a wrong fingerprint fails the handshake before any request is sent.
    before = stub.requests
    wrong = ":".join(["00"] * 32)
    line = refused("certify", "--url", stub.url, "--tls-fingerprint", wrong, "--key", key,
                   "--name", "alice@contoso.example", "--rac", os.path.join(tmp, "x.rac"),
                   must_not_exist=[os.path.join(tmp, "x.rac")])
    check(stub.fingerprint in line, "the refusal should name the server's fingerprint: " + line)
    check(stub.requests == before, "a request reached the server despite the wrong pin")
    # With --anchor, a RAC from an issuer without the certify right is refused, nothing written.
    sub = os.path.join(tmp, "no-certify")
    os.mkdir(sub)
    rogue = Appliance(sub, lic_rights=(3, 4))
    bad = os.path.join(tmp, "rogue.rac")
    line = refused("certify", "--url", rogue.url, "--tls-fingerprint", rogue.fingerprint,
                   "--anchor", rogue.root_pem, "--key", key, "--name", "alice@contoso.example",
                   "--rac", bad, must_not_exist=[bad])
    check("may not issue rights account certificates" in line, "rogue RAC: " + line)


def test_protect_and_open_round_trip(tmp):
    stub = Appliance(tmp)
    u = users(tmp, stub, "alice", "bob", "carol")
    doc = os.path.join(tmp, "report.txt")
    plain = b"Quarterly numbers: confidential.\n" * 1000 + os.urandom(777)
    with open(doc, "wb") as f:
        f.write(plain)
    net = ["--url", stub.url, "--tls-fingerprint", stub.fingerprint, "--anchor", stub.root_pem]
    line = ok("protect", *net, "--key", u["alice"][0], "--rac", u["alice"][1],
              "--grant", "bob@contoso.example:view,print", doc)
    check("report.txt.signet" in line, "protect: " + line)
    sealed, pl = doc + ".signet", doc + ".signet.pl"
    # The format, checked from the outside with the key the stub holds.
    with open(sealed, "rb") as f:
        data = f.read()
    check(data[:8] == MAGIC, "no magic: %r" % data[:8])
    content_id, nonce, body = data[8:24], data[24:36], data[36:]
    check(len(body) == len(plain) + 16, "ciphertext + tag is %d bytes, want %d"
          % (len(body), len(plain) + 16))
    check(content_id in stub.keys, "the header's content id is not the published one")
    check(AESGCM(stub.keys[content_id]).decrypt(nonce, body, MAGIC + content_id) == plain,
          "AES-256-GCM with AAD magic+id does not give the document back")
    out = ok("show", pl)
    check("content id:  " + content_id.hex() in out, "PL content id:\n" + out)
    check(re.search(r"^kind: +publishing license$", out, re.M), out)
    check(re.search(r"^grant: +bob@contoso.example: view,print$", out, re.M), out)
    check(re.search(r"^owner: +alice@contoso.example$", out, re.M), out)
    check(content_id.hex() in ok("show", sealed), "show of the .signet file")
    # Bob opens it (the original gone, as on Bob's machine); a second open refuses to overwrite.
    os.unlink(doc)
    line = ok("open", *net, "--key", u["bob"][0], "--rac", u["bob"][1], sealed)
    check("view,print" in line, "open: " + line)
    with open(doc, "rb") as f:
        check(f.read() == plain, "bob's plaintext differs")
    check(stat.S_IMODE(os.stat(doc).st_mode) == 0o600, "plaintext should be mode 600")
    refused("open", *net, "--key", u["bob"][0], "--rac", u["bob"][1], sealed)
    # Carol is not in the policy: 403, nothing written.
    out_c = os.path.join(tmp, "carol.txt")
    line = refused("open", *net, "--key", u["carol"][0], "--rac", u["carol"][1], sealed, "--out",
                   out_c, must_not_exist=[out_c])
    check(line == "error: not granted: the policy does not name carol@contoso.example",
          "carol: " + line)
    # Alice's key with Bob's RAC: refused before anything is asked.
    refused("open", *net, "--key", u["alice"][0], "--rac", u["bob"][1], sealed, "--out", out_c,
            must_not_exist=[out_c])
    # One flipped ciphertext bit: the tag fails, no plaintext appears.
    bad = os.path.join(tmp, "bad.signet")
    with open(bad, "wb") as f:
        f.write(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    with open(pl) as f, open(bad + ".pl", "w") as g:
        g.write(f.read())
    out_b = os.path.join(tmp, "bad")
    line = refused("open", *net, "--key", u["bob"][0], "--rac", u["bob"][1], bad,
                   must_not_exist=[out_b])
    check("tag" in line, "tampered file: " + line)
    # The license command: bob's UL, which show reads.
    ul = os.path.join(tmp, "bob.ul")
    line = ok("license", *net, "--rac", u["bob"][1], "--pl", pl, "--ul", ul)
    check("bob@contoso.example" in line and "view,print" in line, "license: " + line)
    out = ok("show", "--anchor", stub.root_pem, ul)
    check(re.search(r"^kind: +use license$", out, re.M) and
          re.search(r"^grant: +bob@contoso.example: view,print$", out, re.M), out)
    # --insecure: no pin, explicitly.
    ul_i = os.path.join(tmp, "bob-insecure.ul")
    ok("license", "--url", stub.url, "--insecure", "--rac", u["bob"][1], "--pl", pl, "--ul", ul_i)
    # publish: the author's own UL carries owner.
    pl2, ul2 = os.path.join(tmp, "p2.pl"), os.path.join(tmp, "p2.ul")
    line = ok("publish", *net, "--rac", u["alice"][1], "--grant", "bob@contoso.example:view",
              "--grant", "carol@contoso.example:view,edit", "--pl", pl2, "--ul", ul2)
    check("your rights: owner" in line, "publish: " + line)
    out = ok("show", pl2)
    check("carol@contoso.example: view,edit" in out, "policy in the PL:\n" + out)
    # A foreign anchor: everything received is refused, nothing written.
    other = os.path.join(tmp, "other-root.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            os.path.join(tmp, "other.key"), "-out", other, "-days", "2", "-subj", "/CN=Other")
    ul3 = os.path.join(tmp, "bob3.ul")
    line = refused("license", "--url", stub.url, "--tls-fingerprint", stub.fingerprint,
                   "--anchor", other, "--rac", u["bob"][1], "--pl", pl, "--ul", ul3,
                   must_not_exist=[ul3])
    check("anchor" in line, "foreign anchor: " + line)


# ---- the identity certificate (--id-cert, --id-key) ----

def test_identity_certificate_authenticates_every_network_command(tmp):
    ca = OrgCA(tmp, intermediate=True)  # the client must send the intermediate itself
    stub = Appliance(tmp, identity_ca=ca)
    alice = ca.user("alice@contoso.example")
    bob = ca.user("bob@contoso.example", kind="upn")
    net = ["--url", stub.url, "--tls-fingerprint", stub.fingerprint, "--anchor", stub.root_pem]
    keys = {n: keygen(tmp, n) for n in ("alice", "bob")}
    racs = {n: os.path.join(tmp, n + ".rac") for n in ("alice", "bob")}
    # certify without --name: the name is the identity certificate's (rfc822Name, UPN).
    for n, who in (("alice", alice), ("bob", bob)):
        line = ok("certify", *net, "--key", keys[n], "--rac", racs[n], "--id-cert", who.cert,
                  "--id-key", who.key)
        check(line.startswith("certified %s@contoso.example" % n), "certify %s: %s" % (n, line))
        check(stub.callers[-1] == "%s@contoso.example" % n, "the stub saw %r" % stub.callers[-1])
    # --name too: the same user, the domain in any case.
    ok("certify", *net, "--key", keys["alice"], "--rac", os.path.join(tmp, "a2.rac"),
       "--name", "alice@Contoso.Example", "--id-cert", alice.cert, "--id-key", alice.key)
    # Every network command presents it.
    doc = os.path.join(tmp, "memo.txt")
    with open(doc, "w") as f:
        f.write("for bob\n")
    idn = {n: ["--id-cert", u.cert, "--id-key", u.key] for n, u in (("alice", alice), ("bob", bob))}
    ok("protect", *net, *idn["alice"], "--key", keys["alice"], "--rac", racs["alice"], "--grant",
       "bob@contoso.example:view", doc)
    os.unlink(doc)
    ok("open", *net, *idn["bob"], "--key", keys["bob"], "--rac", racs["bob"], doc + ".signet")
    ok("license", *net, *idn["bob"], "--rac", racs["bob"], "--pl", doc + ".signet.pl", "--ul",
       os.path.join(tmp, "bob.ul"))
    ok("publish", *net, *idn["alice"], "--rac", racs["alice"], "--grant", "bob@contoso.example:view",
       "--pl", os.path.join(tmp, "p.pl"), "--ul", os.path.join(tmp, "p.ul"))
    check(None not in stub.callers, "a request went without the identity: %r" % stub.callers)
    # The appliance's refusals of who we are, as it words them.
    ul = os.path.join(tmp, "anon.ul")
    line = refused("license", *net, "--rac", racs["bob"], "--pl", doc + ".signet.pl", "--ul", ul,
                   must_not_exist=[ul])
    check(line == "error: the appliance refused (401): " + UNAUTHENTICATED, "no identity: " + line)
    # Bob's identity cannot certify a request in alice's name: the appliance's 403, as it says it.
    rac = os.path.join(tmp, "eve.rac")
    line = refused("certify", *net, "--key", keys["bob"], "--rac", rac, "--name",
                   "alice@contoso.example", "--id-cert", alice.cert, "--id-key", bob.key, code=2,
                   must_not_exist=[rac])
    check(line == "error: --id-key does not match --id-cert", "bob's key, alice's cert: " + line)


def test_identity_errors_are_one_line_before_any_connection(tmp):
    ca = OrgCA(tmp, alg="ec")  # P-256 identity keys; the RAC's key stays RSA
    stub = Appliance(tmp, identity_ca=ca)
    alice = ca.user("alice@contoso.example")
    bob = ca.user("bob@contoso.example")
    nameless = ca.user("nobody", kind="none")
    key = keygen(tmp, "k")
    rac = os.path.join(tmp, "k.rac")
    base = ["certify", "--url", stub.url, "--tls-fingerprint", stub.fingerprint, "--key", key,
            "--rac", rac]
    unreadable = os.path.join(tmp, "locked.pem")
    with open(alice.cert) as f, open(unreadable, "w") as g:
        g.write(f.read())
    os.chmod(unreadable, 0)
    readable = os.access(unreadable, os.R_OK)  # root reads it anyway
    junk = os.path.join(tmp, "junk.pem")
    with open(junk, "w") as f:
        f.write("not a certificate\n")
    loose = os.path.join(tmp, "loose.key")
    with open(alice.key) as f, open(loose, "w") as g:
        g.write(f.read())
    os.chmod(loose, 0o644)
    not_a_key = os.path.join(tmp, "cert-as.key")
    with open(alice.cert) as f, open(not_a_key, "w") as g:
        g.write(f.read())
    os.chmod(not_a_key, 0o600)
    before = stub.requests
    for extra, want in [
        (("--id-cert", alice.cert), "error: --id-cert and --id-key go together"),
        (("--id-key", alice.key, "--name", "alice@contoso.example"),
         "error: --id-cert and --id-key go together"),
        (("--id-cert", alice.cert, "--id-key", bob.key), "error: --id-key does not match --id-cert"),
        (("--id-cert", os.path.join(tmp, "absent.pem"), "--id-key", alice.key),
         "error: cannot read --id-cert %s: No such file or directory" % os.path.join(tmp,
                                                                                   "absent.pem")),
        (("--id-cert", junk, "--id-key", alice.key), "error: cannot read --id-cert %s: " % junk),
        (("--id-cert", alice.cert, "--id-key", os.path.join(tmp, "absent.key")),
         "error: cannot read --id-key %s: No such file or directory" % os.path.join(tmp,
                                                                                  "absent.key")),
        (("--id-cert", alice.cert, "--id-key", not_a_key), "error: cannot read --id-key "),
        (("--id-cert", alice.cert, "--id-key", loose), "chmod 600"),
        (("--id-cert", alice.cert, "--id-key", alice.key, "--name", "bob@contoso.example"),
         "error: --name bob@contoso.example is not the name in --id-cert (alice@contoso.example)"),
        (("--id-cert", nameless.cert, "--id-key", nameless.key), "names no user"),
        ((), "certify needs --name (or --id-cert"),
    ] + ([] if readable else [(("--id-cert", unreadable, "--id-key", alice.key),
                               "error: cannot read --id-cert %s: Permission denied" % unreadable)]):
        line = refused(*base, *extra, must_not_exist=[rac], code=2)
        check(line.startswith(want) if want.startswith("error:") else want in line,
              "%s: want %r, got %r" % (" ".join(extra), want, line))
    check(stub.requests == before, "a refused command line reached the server")
    # The same rule on the other network commands, and none on the offline ones.
    line = refused("license", "--url", stub.url, "--insecure", "--rac", rac, "--pl", "p", "--ul",
                   "u", "--id-key", alice.key, code=2)
    check("go together" in line, "license: " + line)
    line = refused("keygen", "--key", os.path.join(tmp, "n.key"), "--id-cert", alice.cert,
                   "--id-key", alice.key, code=2)
    check("does not apply to keygen" in line, "keygen: " + line)
    # A certificate that names nobody, with --name: the appliance judges it, and its 403 is
    # printed as it says it.
    line = refused(*base, "--name", "bob@contoso.example", "--id-cert", nameless.cert, "--id-key",
                   nameless.key, must_not_exist=[rac])
    check(line == "error: the appliance refused (403): " + NAMELESS, "nameless: " + line)
