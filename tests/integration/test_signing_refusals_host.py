"""Every signing endpoint refuses hostile input with a clear status and reason, audits it, and
issues nothing (R8, R12): malformed, oversized, wrong-signature, expired, untrusted-root and
not-granted requests against an enrolled root on the host board. The user endpoints are called
as authenticated users (identity certificates from a user CA the root trusts), so that each
refusal here is about the request itself."""
import base64
import hashlib
import json
import os
import subprocess
import time

from enrollment import Authority, prepare_appliance, trust
from harness import check
from hsm import Token
from netboard import host_on_network, https_context, https_get
from rights import HOST, Org, online, split_bundle

ARC = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
XML = "application/xml"


def ssl(*args, inp=None):
    res = subprocess.run(["openssl"] + list(args), capture_output=True, input=inp, timeout=30)
    check(res.returncode == 0, "openssl %s: %s" % (args[0], res.stderr.decode(errors="replace")))
    return res.stdout


def b64(der):
    return base64.b64encode(der).decode()


def post(port, path, body, ctx=None):
    if isinstance(body, str):
        body = body.encode()
    return https_get(port, path, "POST", body, {"Content-Type": XML}, ctx=ctx)


def der_of(pem_path):
    return ssl("x509", "-in", pem_path, "-outform", "DER")


def tamper(der):
    """Flip a bit in the signature (the last bytes of a certificate or request)."""
    b = bytearray(der)
    b[-5] ^= 0x01
    return bytes(b)


def chain_xml(paths):
    return "<Chain>%s</Chain>" % "".join("<Certificate>%s</Certificate>" % b64(der_of(p))
                                       for p in paths)


def oid_der(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7f]
        a >>= 7
        while a:
            chunk.insert(0, 0x80 | (a & 0x7f))
            a >>= 7
        body += bytes(chunk)
    return bytes([0x06, len(body)]) + bytes(body)


def foreign_rac(tmp, user):
    """A certificate that claims to be a RAC, from a CA nobody trusts."""
    d = os.path.join(tmp, "foreign")
    os.makedirs(d, exist_ok=True)
    ca_key, ca, key, rac = (os.path.join(d, n) for n in ("ca.key", "ca.pem", "u.key", "u.pem"))
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-subj",
        "/CN=Mallory CA", "-days", "30")
    ssl("genrsa", "-out", key, "2048")
    csr = ssl("req", "-new", "-key", key, "-subj", "/CN=" + user)
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("%s.5 = DER:%s\n" % (ARC, oid_der(ARC + ".5.1").hex()))
    ssl("x509", "-req", "-CA", ca, "-CAkey", ca_key, "-set_serial", "7", "-days", "30",
        "-extfile", ext, "-out", rac, inp=csr)
    return rac, ca


def test_signing_endpoints_refuse_hostile_input(tmp):
    auth = Authority(tmp)
    port = auth.serve("--days", "3650")
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con)
    p = nb.https_port
    org = Org(tmp, con)
    alice = org.client("alice@contoso.example")
    as_alice = https_context(alice.identity.cert, alice.identity.key)

    # Not enrolled: every endpoint says so.
    for path in ("/v1/subenroll", "/v1/certify", "/v1/publish", "/v1/license"):
        code, body = post(p, path, "<x/>", as_alice)
        check(code in (403, 503), "%s before enrollment: %d %r" % (path, code, body), con)
    check(post(p, "/v1/certify", "<x/>", as_alice) == (503, "not enrolled\n"), "certify 503",
          con)

    trust(con, auth)
    check("SLC installed" in online(con, "http://%s:%d" % (HOST, port)), "enroll", con)
    alice.keygen()
    rc, out = alice.certify(p)
    check(rc == 0, "certify: " + out, con)
    rac_files = split_bundle(alice.rac, tmp, "alice")
    rac_der = der_of(rac_files[0])
    chain = chain_xml(rac_files[1:])

    def counters():
        return json.loads(https_get(p, "/v1/status")[1])["issued"]

    before = counters()

    # ---- certify ----
    csr = ssl("req", "-new", "-key", alice.key, "-subj", "/CN=alice@contoso.example", "-outform",
              "DER")
    ec_key = os.path.join(tmp, "ec.key")
    ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ec_key)
    ec_csr = ssl("req", "-new", "-key", ec_key, "-subj", "/CN=alice@contoso.example", "-outform",
                 "DER")  # alice's own name: refused for its key alone

    def certify_doc(der):
        return ("<SignetCertifyRequest version=\"1\"><CertificateRequest>%s"
                "</CertificateRequest></SignetCertifyRequest>" % b64(der))

    cases = [
        ("/v1/certify", "", 400, "empty body"),
        ("/v1/certify", "not xml at all", 400, ""),
        ("/v1/certify", "<SignetPublishRequest version=\"1\"/>", 400, ""),
        ("/v1/certify", certify_doc(tamper(csr)), 400, "signature"),
        ("/v1/certify", certify_doc(ec_csr), 400, "RSA"),
        ("/v1/certify", "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>" + certify_doc(csr), 400, ""),
        ("/v1/certify", certify_doc(csr) + " " * 40000, 413, ""),
    ]
    # ---- publish ----
    foreign, foreign_ca = foreign_rac(tmp, "mallory@contoso.example")

    def publish_doc(rac, chain_part):
        return ("<SignetPublishRequest version=\"1\"><RightsAccountCertificate>%s"
                "</RightsAccountCertificate>%s<Policy><Grant user=\"bob@contoso.example\" "
                "rights=\"view\"/></Policy></SignetPublishRequest>" % (b64(rac), chain_part))

    cases += [
        ("/v1/publish", publish_doc(tamper(rac_der), chain), 403, "rights account certificate"),
        ("/v1/publish", publish_doc(der_of(foreign), chain_xml([foreign_ca])), 403, ""),
        ("/v1/publish", publish_doc(der_of(rac_files[1]), chain_xml(rac_files[2:])), 400,
         "not a rights account certificate"),
        ("/v1/publish", publish_doc(rac_der, chain).replace("rights=\"view\"",
                                                            "rights=\"view,fly\""), 400, ""),
    ]
    for path, body, want, why in cases:
        code, text = post(p, path, body, as_alice)
        check(code == want and why in text and text.endswith("\n") and text.count("\n") == 1,
              "%s %r...: %d %r (wanted %d %r)" % (path, body[:60], code, text, want, why), con)

    # A real publish, to have a PL to tamper with.
    code, text = post(p, "/v1/publish", publish_doc(rac_der, chain), as_alice)
    check(code == 200 and "<PublishingLicense>" in text, "publish: %d %r" % (code, text), con)
    pl_der = base64.b64decode(text.split("<PublishingLicense>")[1].split("<")[0])

    def license_doc(pl, rac, chain_part):
        return ("<SignetLicenseRequest version=\"1\"><PublishingLicense>%s</PublishingLicense>"
                "<RightsAccountCertificate>%s</RightsAccountCertificate>%s"
                "</SignetLicenseRequest>" % (b64(pl), b64(rac), chain_part))

    # Bob's identity certificate outlives his RAC (ten years, as long as his CA): the expired
    # case below is about the RAC.
    bob = org.client("bob@contoso.example", days=3650)
    as_bob = https_context(bob.identity.cert, bob.identity.key)
    bob.keygen()
    check(bob.certify(p)[0] == 0, "certify bob", con)
    bob_files = split_bundle(bob.rac, tmp, "bob")
    bob_rac = der_of(bob_files[0])
    carol = org.client("carol@contoso.example")
    as_carol = https_context(carol.identity.cert, carol.identity.key)
    carol.keygen()
    check(carol.certify(p)[0] == 0, "certify carol", con)
    carol_rac = der_of(split_bundle(carol.rac, tmp, "carol")[0])
    for body, ctx, want, why in [
        (license_doc(tamper(pl_der), bob_rac, chain), as_bob, 403, "not issued by this cluster"),
        (license_doc(rac_der, bob_rac, chain), as_bob, 400, "not a publishing license"),
        (license_doc(pl_der, tamper(bob_rac), chain), as_bob, 403, "rights account certificate"),
        (license_doc(pl_der, der_of(foreign), chain_xml([foreign_ca])), as_bob, 403, ""),
        (license_doc(pl_der, carol_rac, chain), as_carol, 403, "not granted"),
    ]:
        code, text = post(p, "/v1/license", body, ctx)
        check(code == want and why in text, "license: %d %r (wanted %d %r)" %
              (code, text, want, why), con)
    code, text = post(p, "/v1/license", license_doc(pl_der, bob_rac, chain), as_bob)
    check(code == 200 and "<UseLicense>" in text, "bob's license: %d %r" % (code, text), con)

    # Expired: eight years on, the RAC (seven years at most) no longer counts; the SLC (ten
    # years from the authority) still serves.
    con.command("time set 2034-12-01T00:00:00Z")
    code, text = post(p, "/v1/license", license_doc(pl_der, bob_rac, chain), as_bob)
    check(code == 403 and "expired" in text.lower() and "identity" not in text,
          "expired RAC: %d %r" % (code, text), con)
    con.command("time set " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    # ---- subenroll: mutual TLS and the ACL ----
    cli_key, cli_cert = os.path.join(tmp, "cli.key"), os.path.join(tmp, "cli.pem")
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", cli_key, "-out", cli_cert, "-subj", "/CN=lic9", "-days", "30")
    fp = hashlib.sha256(der_of(cli_cert)).hexdigest().upper()
    fp = ":".join(fp[i:i + 2] for i in range(0, 64, 2))
    ctx = https_context(cli_cert, cli_key)
    slc_key = os.path.join(tmp, "lic9.key")
    ssl("genrsa", "-out", slc_key, "2048")
    spki = ssl("pkey", "-in", slc_key, "-pubout", "-outform", "DER")
    pop = ssl("req", "-new", "-key", slc_key, "-subj", "/CN=lic9", "-outform", "DER")

    def sub_doc(kind="subenrollment", revocation="<Revocation type=\"standard\"/>", proof=pop):
        return ("<SignetRequest version=\"1\" kind=\"%s\"><ServerName>lic9</ServerName>"
                "<ClusterUrl>https://lic9.example.test/</ClusterUrl><Sku>Signet</Sku>"
                "<Version>1.0</Version>%s<PublicKey>%s</PublicKey><ProofOfPossession>%s"
                "</ProofOfPossession></SignetRequest>" % (kind, revocation, b64(spki), b64(proof)))

    check(post(p, "/v1/subenroll", sub_doc())[0] == 403, "no client certificate", con)
    code, text = post(p, "/v1/subenroll", sub_doc(), ctx)
    check((code, text) == (403, "not granted\n"), "not granted: %d %r" % (code, text), con)
    check("granted" in con.command("acl grant %s lic9" % fp), "grant", con)
    custom = ("<Revocation type=\"custom\"><RevokerPublicKey>%s</RevokerPublicKey></Revocation>"
              % b64(spki))
    for body, why in [(sub_doc(kind="enrollment"), "enrollment authority"),
                      (sub_doc(revocation=custom), "revocation"),
                      (sub_doc(proof=tamper(pop)), "proof of possession"),
                      ("<SignetRequest/>", "")]:
        code, text = post(p, "/v1/subenroll", body, ctx)
        check(code == 400 and why in text, "subenroll: %d %r (wanted %r)" % (code, text, why),
              con)
    after = counters()
    check(after["subenrolled"] == before["subenrolled"] and
          after["certified"] == before["certified"] + 2 and
          after["published"] == before["published"] + 1 and
          after["licensed"] == before["licensed"] + 1, "counters %r -> %r" % (before, after),
          con)
    # Granted and well-formed: issued, and it verifies.
    code, text = post(p, "/v1/subenroll", sub_doc(), ctx)
    check(code == 200 and "<ServerLicensorCertificate>" in text, "subenroll: %d %r" %
          (code, text), con)
    # Revoked: refused again.
    check("revoked" in con.command("acl revoke %s" % fp), "revoke", con)
    check(post(p, "/v1/subenroll", sub_doc(), ctx)[0] == 403, "after revoke", con)
    audit = con.command("audit show 64")
    for what in ("certify: refused (400)", "publish: refused (403)", "license: refused (403)",
                 "subenroll: refused (403)", "subenroll: refused (400)", "acl grant", "acl revoke",
                 "subenroll: issued for lic9"):
        check(what in audit, "audit lacks %r:\n%s" % (what, audit), con)
    con.close()
    auth.close()
    tok.close()
