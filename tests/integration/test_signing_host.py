"""The signing service on the host board (R8, R9, R12): a three-tier hierarchy — enrollment
authority, root cluster, licensing server — on two appliance instances that share nothing but
the network; the deny-by-default ACL; users of an organisation whose user CA both appliances
trust, authenticated by their identity certificates, certified, publishing and opening protected
files with tools/signet-client; every issued certificate checked with `openssl verify`."""
import json
import os
import re

from enrollment import Authority, block, paste
from harness import check
from hsm import Token
from netboard import host_on_network, https_get
from identity import OrgCA
from rights import (HOST, Client, Org, export_certs, licensing_prepare, no_extractable_keys, online,
                    openssl_verify, root_server, split_bundle, tls_fingerprint)


def test_three_tier_hierarchy_and_protected_file_round_trip(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok, root = root_server(tmp, auth, port)
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    root_url = "https://%s:%d" % (HOST, root.https_port)

    # Deny by default (R9): nothing is issued, the refusal is audited on the root.
    check("(nobody is granted sub-enrollment)" in root.con.command("acl list"), "acl", root.con)
    out = online(lic.con, root_url)
    check("the root refused (403): not granted" in out, "ungranted sub-enrollment: %r" % out,
          lic.con)
    check("subenroll: refused (403)" in root.con.command("audit show"), "audit", root.con)
    fields = lic.con.command("slc show")
    check("none installed" in fields, "an SLC appeared: %r" % fields, lic.con)

    # The operator reads the licensing server's fingerprint and grants it on the root.
    fp = tls_fingerprint(lic.con)
    out = root.con.command("acl grant %s lic1" % fp)
    check("granted sub-enrollment to lic1" in out, "acl grant: %r" % out, root.con)
    check(fp in root.con.command("acl list"), "acl list", root.con)
    check("acl grant %s lic1" % fp in root.con.command("audit show 3"),
          "the grant's audit entry lacks the whole fingerprint", root.con)
    out = online(lic.con, root_url)
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)
    check("subenroll: issued for lic1" in root.con.command("audit show"), "audit", root.con)
    st = json.loads(https_get(lic.https_port, "/v1/status")[1])
    check(st["role"] == "licensing" and st["serving"], "licensing status: %r" % st, lic.con)
    slc = lic.con.command("slc show")
    check("issue-use-licenses issue-publishing-licenses" in slc and "sub-enroll" not in slc,
          "licensing SLC rights: %r" % slc, lic.con)
    lic_certs = export_certs(lic.con, "slc export", tmp, "lic-slc")
    check(len(lic_certs) == 3, "licensing chain has %d certificates" % len(lic_certs), lic.con)
    openssl_verify(auth.root_pem, lic_certs[0], lic_certs[1:], lic.con)
    ckek = export_certs(lic.con, "ckek export", tmp, "lic-ckek")
    openssl_verify(auth.root_pem, ckek[0], lic_certs, lic.con)

    # Users of Contoso, whose user CA both appliances trust (the root verifies a forwarded
    # user's chain itself): alice certified through the licensing server (forwarded to the
    # root), bob and eve at the root itself.
    org = Org(tmp, root.con, lic.con)
    pins = {lic.https_port: tls_fingerprint(lic.con), root.https_port: tls_fingerprint(root.con)}
    alice = org.client("alice@contoso.example", pins)
    bob = org.client("bob@contoso.example", pins)
    eve = org.client("eve@contoso.example")
    for user, at in ((alice, lic.https_port), (bob, root.https_port), (eve, root.https_port)):
        user.keygen()
        rc, out = user.certify(at)
        check(rc == 0, "certify %s: %s" % (user.user, out), lic.con)
        certs = split_bundle(user.rac, tmp, "rac-" + user.user.split("@")[0])
        check(len(certs) == 3, "RAC bundle of %d certificates" % len(certs))
        openssl_verify(auth.root_pem, certs[0], certs[1:], lic.con)

    # Without an identity certificate, or with one from a CA neither appliance trusts, the
    # client says the appliance's refusal as it gave it, and nothing is written.
    stranger = Client(tmp, "mallory@contoso.example", pins)
    outsider = Client(tmp, "oscar@fabrikam.example", pins,
                      OrgCA(tmp, "Fabrikam Users CA").user("oscar@fabrikam.example"))
    for user, want in ((stranger, "the appliance refused (401): authenticate with your identity "
                                  "certificate"),
                       (outsider, "the appliance refused (403): not issued by a trusted identity "
                                  "source")):
        user.keygen()
        for at in (lic.https_port, root.https_port):
            rc, out = user.certify(at)
            check(rc != 0 and want in out and not os.path.exists(user.rac),
                  "certify %s: %s" % (user.user, out), lic.con)

    # Alice protects a file for bob; bob opens it, eve is refused and gets nothing.
    secret = os.path.join(alice.dir, "plan.txt")
    text = b"Q3 plan: ship the appliance.\n" * 50
    with open(secret, "wb") as f:
        f.write(text)
    rc, out = alice.protect(lic.https_port, secret, "bob@contoso.example:view,print")
    check(rc == 0, "protect: " + out, lic.con)
    protected = secret + ".signet"
    with open(protected, "rb") as f:
        check(text not in f.read() and b"Q3 plan" not in open(protected, "rb").read(),
              "the protected file holds the plaintext")
    pl = split_bundle(protected + ".pl", tmp, "pl")
    openssl_verify(auth.root_pem, pl[0], lic_certs, lic.con)
    for user in (bob, eve):
        os.link(protected, os.path.join(user.dir, "plan.txt.signet"))
        os.link(protected + ".pl", os.path.join(user.dir, "plan.txt.signet.pl"))
    out_bob = os.path.join(bob.dir, "plan.txt")
    rc, out = bob.open(lic.https_port, os.path.join(bob.dir, "plan.txt.signet"), out_bob)
    check(rc == 0 and "view,print" in out, "bob open: " + out, lic.con)
    with open(out_bob, "rb") as f:
        check(f.read() == text, "bob's plaintext differs")
    out_eve = os.path.join(eve.dir, "plan.txt")
    rc, out = eve.open(lic.https_port, os.path.join(eve.dir, "plan.txt.signet"), out_eve)
    check(rc != 0 and "not granted: the policy does not name eve" in out and
          "not granted: not granted" not in out, "eve open: " + out, lic.con)
    check(not os.path.exists(out_eve), "eve got a file")
    # The root did not protect it: it says so, and where to go.
    out_root = os.path.join(bob.dir, "plan-root.txt")
    rc, out = bob.open(root.https_port, os.path.join(bob.dir, "plan.txt.signet"), out_root)
    check(rc != 0 and "not issued by this cluster (open it where it was protected)" in out and
          "another issuer" in out, "open through the root: " + out, root.con)
    check(not os.path.exists(out_root), "the root issued a license for another cluster's file")
    check(re.search(r"license: refused \(403\) for [^\n]*eve", lic.con.command("audit show")),
          "eve's refusal is not audited", lic.con)
    # Successes are audited too: who got what, where it was issued.
    lic_audit, root_audit = lic.con.command("audit show 64"), root.con.command("audit show 64")
    for what, audit in (("certify: issued for bob@contoso.example", root_audit),
                        ("certify: issued for alice@contoso.example", root_audit),
                        ("certify: forwarded for alice@contoso.example (identity", lic_audit),
                        ("%s); the root issued the RAC" % alice.identity.fp, lic_audit),
                        ("publish: issued for alice@contoso.example", lic_audit),
                        ("license: issued for bob@contoso.example", lic_audit)):
        check(what in audit, "the audit log lacks %r:\n%s" % (what, audit), lic.con)
    # Bob's use license, as the client keeps it, also verifies.
    ul = os.path.join(bob.dir, "bob.ul")
    rc, out = bob.run("license", *bob.url_args(lic.https_port), "--rac", bob.rac, "--pl",
                      protected + ".pl", "--ul", ul)
    check(rc == 0, "license: " + out, lic.con)
    ul_certs = split_bundle(ul, tmp, "ul")
    openssl_verify(auth.root_pem, ul_certs[0], lic_certs, lic.con)
    st = json.loads(https_get(lic.https_port, "/v1/status")[1])
    check(st["issued"]["licensed"] >= 2 and st["issued"]["published"] == 1,
          "licensing counters: %r" % st, lic.con)

    # Keys stay in the tokens.
    for tok, con in ((root_tok, root.con), (lic_tok, lic.con), (auth.token, None)):
        no_extractable_keys(tok, con)
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()


def test_offline_sub_enrollment_through_the_console(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok, root = root_server(tmp, auth, port)
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    # A licensing server sets no revocation policy of its own (R14).
    check("error:" in lic.con.command("config revocation custom"), "custom revocation", lic.con)
    req = lic.con.command("enroll export", 60)
    check("-----BEGIN SIGNET ENROLLMENT REQUEST-----" in req, "export: %r" % req, lic.con)
    check("paste it into `subenroll` on the root" in req and "authority" not in req,
          "a licensing server's request goes to its root: %r" % req[-300:], lic.con)
    out = paste(root.con, "subenroll", block(req, "SIGNET ENROLLMENT REQUEST"))
    resp = block(out, "SIGNET ENROLLMENT RESPONSE")
    check(resp and "Import the block above on lic1" in out, "subenroll: %r" % out, root.con)
    out = paste(lic.con, "enroll import", resp)
    check("SLC installed for 'lic1'" in out, "import: %r" % out, lic.con)
    certs = export_certs(lic.con, "slc export", tmp, "slc")
    openssl_verify(auth.root_pem, certs[0], certs[1:], lic.con)
    # Offline renewal the same way: the renewal request goes to the root's subenroll too.
    old_serial = re.search(r"^serial: +(\S+)", lic.con.command("slc show"), re.M).group(1)
    req = lic.con.command("renew export", 60)
    renewal = block(req, "SIGNET RENEWAL REQUEST")
    check(renewal and "paste it into `subenroll` on the root" in req, "renew export: %r" % req,
          lic.con)
    out = paste(root.con, "subenroll", renewal)
    resp = block(out, "SIGNET ENROLLMENT RESPONSE")
    check(resp and "Import the block above on lic1 with `renew import`" in out,
          "subenroll of a renewal: %r" % out, root.con)
    check("subenroll (console): renewal issued for lic1" in root.con.command("audit show"),
          "renewal not audited", root.con)
    out = paste(lic.con, "renew import", resp)
    check("renew import: SLC renewed for 'lic1'" in out, "renew import: %r" % out, lic.con)
    slc = lic.con.command("slc show")
    check(re.search(r"^serial: +(\S+)", slc, re.M).group(1) != old_serial and
          "state:      enrolled" in slc, "after renewal: %r" % slc, lic.con)
    certs = export_certs(lic.con, "slc export", tmp, "slc-renewed")
    openssl_verify(auth.root_pem, certs[0], certs[1:], lic.con)
    # Once enrolled the role is fixed.
    check("error:" in lic.con.command("config role root"), "role change", lic.con)
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()
