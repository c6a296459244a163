"""Users are who their organisation says (R16-R18) on the host boards: every user endpoint
(/v1/certify, /v1/publish, /v1/license) authenticates its caller by a TLS client certificate from
a trusted identity source, and issues for that name only.

Driven with Python's ssl + http.client and raw XML (not signet-client), so that the requests a
real client would never send can be sent: a RAC in someone else's name, a UserChain from a user,
a forwarded chain from a stand-in licensing server. The three tiers (authority -> root ->
licensing server) are built as test_signing_host.py builds them, with identity sources on both
appliances. Every refusal is checked for its status, its one line, its audit entry (with the
presented certificate's fingerprint) and that the root's issued counters did not move.
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import subprocess
import xml.etree.ElementTree as ET

from enrollment import Authority, enrolled_root
from harness import check
from hsm import Token
from identity import OrgCA, identity_import
from netboard import host_on_network, https_context, https_get
from rights import HOST, licensing_prepare, online, root_server, tls_fingerprint

XML = "application/xml"
NO_CERT = ("authenticate with your identity certificate (a TLS client certificate from your "
           "organisation's user CA)\n")


def openssl(*args, inp=None):
    res = subprocess.run(["openssl"] + list(args), capture_output=True, input=inp, timeout=60)
    check(res.returncode == 0, "openssl %s: %s" % (args[0], res.stderr.decode(errors="replace")))
    return res.stdout


def b64(der):
    return base64.b64encode(der).decode()


def pem_ders(path):
    """Every certificate in a PEM file, as DER, in file order."""
    with open(path) as f:
        text = f.read()
    out, rest = [], text
    while "-----BEGIN CERTIFICATE-----" in rest:
        start = rest.index("-----BEGIN CERTIFICATE-----")
        end = rest.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
        out.append(ssl.PEM_cert_to_DER_cert(rest[start:end] + "\n"))
        rest = rest[end:]
    return out


def rights_key(tmp, name):
    """A user's rights account key (RSA-2048; not the identity certificate's key)."""
    path = os.path.join(tmp, "rights-%s.key" % name.split("@")[0])
    openssl("genrsa", "-out", path, "2048")
    return path


def csr(key, cn):
    return openssl("req", "-new", "-key", key, "-subj", "/CN=" + cn, "-outform", "DER")


def certify_xml(csr_der, user_chain=()):
    chain = ""
    if user_chain:
        chain = "<UserChain>%s</UserChain>" % "".join(
            "<Certificate>%s</Certificate>" % b64(d) for d in user_chain)
    return ("<SignetCertifyRequest version=\"1\"><CertificateRequest>%s</CertificateRequest>%s"
            "</SignetCertifyRequest>" % (b64(csr_der), chain))


def chain_xml(ders):
    return "<Chain>%s</Chain>" % "".join("<Certificate>%s</Certificate>" % b64(d) for d in ders)


def publish_xml(rac, chain, grants):
    return ("<SignetPublishRequest version=\"1\"><RightsAccountCertificate>%s"
            "</RightsAccountCertificate>%s<Policy>%s</Policy></SignetPublishRequest>"
            % (b64(rac), chain_xml(chain),
               "".join("<Grant user=\"%s\" rights=\"%s\"/>" % g for g in grants)))


def license_xml(pl, rac, chain):
    return ("<SignetLicenseRequest version=\"1\"><PublishingLicense>%s</PublishingLicense>"
            "<RightsAccountCertificate>%s</RightsAccountCertificate>%s</SignetLicenseRequest>"
            % (b64(pl), b64(rac), chain_xml(chain)))


def post(port, path, body, who=None, version=None):
    """POST over HTTPS presenting who's identity certificate (a User, or (cert, key))."""
    ctx = https_context(version=version)
    if who is not None:
        cert, key = (who.cert, who.key) if hasattr(who, "cert") else who
        ctx = https_context(cert, key, version)
    if isinstance(body, str):
        body = body.encode()
    return https_get(port, path, "POST", body, {"Content-Type": XML}, ctx=ctx)


def field(text, tag):
    """The DER of the first <tag> in a response document."""
    el = ET.fromstring(text).find(".//" + tag)
    check(el is not None, "no <%s> in %r" % (tag, text[:200]))
    return base64.b64decode("".join(el.text.split()))


def chain_of(text):
    return [base64.b64decode("".join(c.text.split()))
            for c in ET.fromstring(text).findall("./Chain/Certificate")]


def subject_cn(der):
    out = openssl("x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253",
                  inp=der).decode()
    return out.strip().split("CN=")[1].split(",")[0]


def counters(port):
    """What the appliance issued (refusals left out)."""
    issued = json.loads(https_get(port, "/v1/status")[1])["issued"]
    issued.pop("refused", None)
    return issued


def refused(con, port, path, body, who, status, line, what=None):
    """A refusal: status, exactly that one line, audited with the presented certificate."""
    code, text = post(port, path, body, who)
    check((code, text) == (status, line), "%s: %d %r, want %d %r" % (path, code, text, status,
                                                                     line), con)
    what = what or path.rsplit("/", 1)[1]
    audit = con.command("audit show 8")
    want = "%s: refused (%d)" % (what, status)
    check(want in audit and line.strip() in audit, "audit lacks %r / %r:\n%s" % (want, line,
                                                                             audit), con)
    if who is not None and hasattr(who, "fp"):
        check(who.fp in audit, "audit lacks the presented fingerprint %s:\n%s" % (who.fp, audit),
              con)


def standin_cert(tmp, name):
    """A TLS identity for the test client, standing in for a licensing server: (cert, key)."""
    key, cert = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=" + name, "-days", "30")
    return cert, key


def test_three_tier_flow_with_identity_and_impersonation_refused(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok, root = root_server(tmp, auth, port)
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    root.con.command("acl grant %s lic1" % tls_fingerprint(lic.con))
    out = online(lic.con, "https://%s:%d" % (HOST, root.https_port))
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)

    contoso = OrgCA(tmp, intermediate=True)
    for nb in (root, lic):
        identity_import(nb.con, contoso, "contoso.example")
    alice = contoso.user("alice@contoso.example")
    bob = contoso.user("bob@contoso.example")
    eve = contoso.user("eve@contoso.example")
    rp, lp = root.https_port, lic.https_port
    keys = {u.name: rights_key(tmp, u.name) for u in (alice, bob, eve)}

    # Alice certifies through the licensing server; the CSR spells her domain in capitals, the
    # RAC names her as her certificate does.
    code, text = post(lp, "/v1/certify", certify_xml(csr(keys[alice.name],
                                                         "alice@CONTOSO.example")), alice)
    check(code == 200, "alice certify via lic1: %d %r" % (code, text), lic.con)
    alice_rac, alice_chain = field(text, "RightsAccountCertificate"), chain_of(text)
    check(subject_cn(alice_rac) == "alice@contoso.example", "RAC CN", lic.con)
    check("certify: forwarded for alice@contoso.example (identity 'CN=alice" in
          lic.con.command("audit show 8") and alice.fp in lic.con.command("audit show 8") and
          "; the root issued the RAC" in lic.con.command("audit show 8"),
          "lic1's audit of the forward", lic.con)
    audit = root.con.command("audit show 8")
    check("certify: issued for alice@contoso.example (identity 'CN=alice" in audit and
          alice.fp in audit and ", via lic1)" in audit, "root's audit:\n" + audit, root.con)
    # Bob certifies at the root directly.
    code, text = post(rp, "/v1/certify", certify_xml(csr(keys[bob.name], bob.name)), bob)
    check(code == 200, "bob certify: %d %r" % (code, text), root.con)
    bob_rac, bob_chain = field(text, "RightsAccountCertificate"), chain_of(text)
    check("certify: issued for bob@contoso.example (identity 'CN=bob" in
          root.con.command("audit show 4"), "bob's audit", root.con)

    before = counters(rp), counters(lp)
    # Eve, with her own valid certificate, asks the licensing server for a RAC in bob's name.
    bob_csr = csr(keys[eve.name], bob.name)
    refused(lic.con, lp, "/v1/certify", certify_xml(bob_csr), eve, 403,
            "you are eve@contoso.example, the request names bob@contoso.example\n")
    # The same, forwarded straight to the root over a granted mTLS identity (standing in for a
    # licensing server) with eve's chain as the UserChain.
    standin = standin_cert(tmp, "lic9")
    out = root.con.command("acl grant %s lic9" % tls_fingerprint_of(standin[0]))
    check("granted sub-enrollment to lic9" in out, "acl grant: %r" % out, root.con)
    refused(root.con, rp, "/v1/certify", certify_xml(bob_csr, pem_ders(eve.cert)), standin, 403,
            "you are eve@contoso.example, the request names bob@contoso.example\n")
    # A UserChain from a caller the root does not grant: eve presents bob's (public) chain.
    refused(root.con, rp, "/v1/certify", certify_xml(bob_csr, pem_ders(bob.cert)), eve, 403,
            "a user chain is taken only from a granted licensing server\n")
    # ... and to the licensing server, whose ACL grants nobody.
    refused(lic.con, lp, "/v1/certify", certify_xml(bob_csr, pem_ders(bob.cert)), eve, 403,
            "a user chain is taken only from a granted licensing server\n")
    # The granted stand-in forwarding a chain the root's sources do not vouch for.
    evil = OrgCA(tmp, "Evil Users CA")
    fake_bob = evil.user("bob@contoso.example")
    refused(root.con, rp, "/v1/certify", certify_xml(bob_csr, pem_ders(fake_bob.cert)), standin,
            403, "not issued by a trusted identity source\n")
    # A user the licensing server trusts but the root does not: the root verifies the forwarded
    # chain against its own sources and refuses; the licensing server relays and audits that.
    fabrikam = OrgCA(tmp, "Fabrikam Users CA")
    identity_import(lic.con, fabrikam, "fabrikam.example")
    frank = fabrikam.user("frank@fabrikam.example")
    code, text = post(lp, "/v1/certify", certify_xml(csr(keys[eve.name], frank.name)), frank)
    check((code, text) == (403, "not issued by a trusted identity source\n"),
          "frank via lic1: %d %r" % (code, text), lic.con)
    audit = lic.con.command("audit show 4")
    check("certify: forwarded for frank@fabrikam.example (identity 'CN=frank" in audit and
          "; the root refused (403): not issued by a trusted identity source" in audit,
          "lic1's audit of the root's refusal:\n" + audit, lic.con)
    audit = root.con.command("audit show 4")
    check(("user chain 'CN=frank' %s: not issued by a trusted identity source" % frank.fp)
          in audit, "root's audit:\n" + audit, root.con)
    check(counters(rp) == before[0] and counters(lp) == before[1],
          "something was issued: %r -> %r" % (before, (counters(rp), counters(lp))), root.con)

    # Alice protects for bob through the licensing server; bob gets his use license there.
    code, text = post(lp, "/v1/publish", publish_xml(alice_rac, alice_chain,
                                                     [(bob.name, "view,print")]), alice)
    check(code == 200, "alice publish: %d %r" % (code, text), lic.con)
    pl = field(text, "PublishingLicense")
    check("publish: issued for alice@contoso.example (identity 'CN=alice" in
          lic.con.command("audit show 4"), "publish audit", lic.con)
    code, text = post(lp, "/v1/license", license_xml(pl, bob_rac, bob_chain), bob)
    check(code == 200 and "<UseLicense>" in text, "bob license: %d %r" % (code, text), lic.con)
    # Over TLS 1.2 as well: the issuing CA bob presents after his certificate reaches the
    # check (he is authenticated, then his document is read). A small document: over TLS 1.2 the
    # board takes records of at most 4 KiB after the handshake.
    code, text = post(lp, "/v1/license", "<x/>", bob, ssl.TLSVersion.TLSv1_2)
    check(code == 400 and "SignetLicenseRequest" in text,
          "bob over TLS 1.2: %d %r" % (code, text), lic.con)
    check("license: issued for bob@contoso.example (identity 'CN=bob" in
          lic.con.command("audit show 4"), "license audit", lic.con)

    # Eve with bob's public RAC: no license, no publishing.
    before = counters(lp)
    refused(lic.con, lp, "/v1/license", license_xml(pl, bob_rac, bob_chain), eve, 403,
            "you are eve@contoso.example, the RAC names bob@contoso.example\n")
    refused(lic.con, lp, "/v1/publish", publish_xml(bob_rac, bob_chain, [(eve.name, "view")]),
            eve, 403, "you are eve@contoso.example, the RAC names bob@contoso.example\n")
    refused(lic.con, lp, "/v1/license", license_xml(pl, bob_rac, bob_chain), None, 401, NO_CERT)
    check(counters(lp) == before, "lic1 issued on a refusal", lic.con)

    # No session is resumed: a client offering its last session gets a full handshake (and so
    # proves its certificate's key again) over TLS 1.2 and 1.3.
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = https_context(bob.cert, bob.key, version)
        with socket.create_connection(("127.0.0.1", rp), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                s.recv(4096)
                session = s.session
        with socket.create_connection(("127.0.0.1", rp), timeout=10) as raw:
            with ctx.wrap_socket(raw, session=session) as s:
                check(not s.session_reused, "%s session resumed" % version, root.con)

    # A chain of more than 4 certificates is refused in the handshake; 4 are taken.
    def chain_file(n):
        path = os.path.join(tmp, "chain-%d.pem" % n)
        with open(bob.cert) as f:
            leaf_and_issuer = f.read()
        with open(contoso.pem) as f:
            ca = f.read()
        with open(path, "w") as f:
            f.write(leaf_and_issuer + ca * (n - 2))
        return path
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        code, _ = post(rp, "/v1/license", "<x/>", (chain_file(4), bob.key), version)
        check(code in (400, 403), "%s, a chain of 4: %d" % (version, code), root.con)
        try:
            post(rp, "/v1/license", "<x/>", (chain_file(5), bob.key), version)
            check(False, "%s: a chain of 5 certificates was accepted" % version, root.con)
        except (ssl.SSLError, ConnectionError, OSError):
            pass
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()


def tls_fingerprint_of(pem):
    der = pem_ders(pem)[0]
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def test_every_refusal_on_the_root_directly(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con, p = nb.con, nb.https_port
    contoso = OrgCA(tmp)
    alice = contoso.user("alice@contoso.example")
    key = rights_key(tmp, alice.name)
    cert_req = certify_xml(csr(key, alice.name))

    # No identity source: every user endpoint answers 403 (deny by default).
    for path, body in (("/v1/certify", cert_req), ("/v1/publish", "<x/>"),
                       ("/v1/license", "<x/>")):
        refused(con, p, path, body, alice, 403, "no identity source is trusted\n")
    check(counters(p)["certified"] == 0, "certified without a source", con)

    source = identity_import(con, contoso, "contoso.example,corp.contoso.example")
    code, text = post(p, "/v1/certify", cert_req, alice)
    check(code == 200, "alice certify: %d %r" % (code, text), con)
    rac, chain = field(text, "RightsAccountCertificate"), chain_of(text)
    code, text = post(p, "/v1/publish", publish_xml(rac, chain, [("bob@contoso.example",
                                                                  "view")]), alice)
    check(code == 200, "alice publish: %d %r" % (code, text), con)
    pl = field(text, "PublishingLicense")
    bodies = {"/v1/certify": cert_req, "/v1/publish": publish_xml(rac, chain, []),
              "/v1/license": license_xml(pl, rac, chain)}

    evil = OrgCA(tmp, "Evil Users CA")
    cases = [
        (None, 401, NO_CERT),
        (evil.user("alice@contoso.example"), 403, "not issued by a trusted identity source\n"),
        (contoso.user("alice@contoso.example", expired=True), 403,
         "identity certificate expired on 2021-01-01\n"),
        (contoso.user("alice@contoso.example", eku="serverAuth"), 403,
         "identity certificate not meant for client authentication (extendedKeyUsage)\n"),
        (contoso.user("alice@contoso.example", key_usage="keyEncipherment"), 403,
         "identity certificate not meant for client authentication (keyUsage)\n"),
        (contoso.user("alice@contoso.example", kind="none"), 403,
         "identity certificate names no user (no rfc822Name or UPN in subjectAltName)\n"),
        (contoso.user("alice@contoso.example", extra_names=("email:al@contoso.example",)), 403,
         "identity certificate names more than one user\n"),
        (contoso.user("alice@fabrikam.example"), 403,
         "alice@fabrikam.example is outside the domains its identity source vouches for\n"),
    ]
    before = counters(p)
    for who, status, line in cases:
        for path, body in bodies.items():
            refused(con, p, path, body, who, status, line)
    check(counters(p) == before, "issued on a refusal: %r -> %r" % (before, counters(p)), con)

    # A Windows smart-card user (UPN otherName) in a subdomain the source vouches for.
    carol = contoso.user("carol@corp.contoso.example", kind="upn")
    code, text = post(p, "/v1/certify",
                      certify_xml(csr(rights_key(tmp, carol.name), carol.name)), carol)
    check(code == 200 and subject_cn(field(text, "RightsAccountCertificate")) == carol.name,
          "UPN user certify: %d %r" % (code, text), con)
    check("certify: issued for carol@corp.contoso.example (identity 'CN=carol" in
          con.command("audit show 4"), "carol's audit", con)

    # A user verified a moment ago is not taken past a change of the sources: the same
    # certificates, again, once the source vouches for other domains and once it is removed.
    for _ in range(3):
        check(post(p, "/v1/certify", cert_req, alice)[0] == 200, "alice again", con)
    identity_import(con, contoso, "fabrikam.example")
    before = counters(p)
    refused(con, p, "/v1/certify", cert_req, alice, 403,
            "alice@contoso.example is outside the domains its identity source vouches for\n")
    out = con.command("identity remove %s" % source)
    check("identity source removed" in out, "identity remove: %r" % out, con)
    refused(con, p, "/v1/certify", cert_req, alice, 403, "no identity source is trusted\n")
    check(counters(p) == before, "issued after the source changed", con)
    con.close()
    auth.close()
    tok.close()
