"""Sub-enrollment against the appliance image (R8, R9): the vexpress-a9 image under QEMU is the
root; a licensing server on the host board sub-enrolls to it over mutual TLS through the
LAN9118 once its fingerprint is granted, and a user is certified by the QEMU root: authenticated
by an identity certificate from an organisation's user CA, imported on the QEMU console."""
import os

from enrollment import Authority, prepare_appliance, trust
from harness import check
from hsm import Token
from netboard import host_on_network, qemu_on_network
from rights import (HOST, Org, export_certs, licensing_prepare, online, openssl_verify,
                    split_bundle, tls_fingerprint)


def test_qemu_root_sub_enrolls_a_licensing_server(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok = Token(os.path.join(tmp, "root"))
    root = qemu_on_network(tmp, root_tok)
    prepare_appliance(root.con, name="qroot")
    trust(root.con, auth)
    out = online(root.con, "http://%s:%d" % (HOST, port), 120)
    check("SLC installed" in out, "QEMU root enrollment: %r" % out, root.con)

    lic_tok = Token(os.path.join(tmp, "lic"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    url = "https://%s:%d" % (HOST, root.https_port)
    out = online(lic.con, url, 120)
    check("not granted" in out, "ungranted: %r" % out, lic.con)
    out = root.con.command("acl grant %s lic1" % tls_fingerprint(lic.con), 60)
    check("granted" in out, "acl grant: %r" % out, root.con)
    out = online(lic.con, url, 120)
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)
    certs = export_certs(lic.con, "slc export", tmp, "lic")
    check(len(certs) == 3, "chain of %d" % len(certs), lic.con)
    openssl_verify(auth.root_pem, certs[0], certs[1:], lic.con)

    org = Org(tmp, root.con)
    check(org.ca.fp in root.con.command("identity list"), "identity list", root.con)
    user = org.client("dave@contoso.example")
    user.keygen()
    rc, out = user.run("certify", *user.url_args(root.https_port), "--key", user.key, "--rac",
                       user.rac, timeout=120)  # the name is the identity certificate's
    check(rc == 0 and "certified dave@contoso.example" in out, "certify on QEMU: " + out,
          root.con)
    check("certify: issued for dave@contoso.example (identity" in root.con.command("audit show"),
          "the certification is not audited with the identity", root.con)
    rac = split_bundle(user.rac, tmp, "rac")
    openssl_verify(auth.root_pem, rac[0], rac[1:], root.con)
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()
