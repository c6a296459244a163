"""Revocation enforced (docs/identity.md "Revocation"; R19, R20) on a three-tier hierarchy of two
host boards: every certificate the root issues names its CRL and starts 300 s before now; the
ACL records the serial of the licensing server's certificate, and RACs certified through the
licensing server carry it (signetVia); a revoked RAC is refused by publish and license on the
root at once and on the licensing server once it holds the root's CRL; a revoked publishing
license is refused by license; an excluded user is refused certification (and back in when no
longer excluded); a revoked licensing server is refused its renewal and forwarded certifications
by the root, the RACs it gave out are refused, and once it holds the CRL it stops serving."""
import os
import re
import time
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from enrollment import Authority
from harness import PROMPT, check
from hsm import Token
from netboard import host_on_network, https_get
from rights import (HOST, Org, export_certs, licensing_prepare, online, openssl_verify,
                    root_server, split_bundle, tls_fingerprint)

ARC = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
VIA = ObjectIdentifier(ARC + ".7")
ROOT_CRL = "https://rms.example.test/v1/crl"  # the root's cluster URL (prepare_appliance)


def cert_of(pem_path):
    with open(pem_path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def serial_hex(cert):
    return "%032x" % cert.serial_number


def cdp_uri(cert):
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    check(len(cdp) == 1 and len(cdp[0].full_name) == 1, "CDP: %r" % cdp)
    return cdp[0].full_name[0].value


def via_of(cert):
    """The signetVia serial prefix (hex), or None."""
    try:
        ext = cert.extensions.get_extension_for_oid(VIA)
    except x509.ExtensionNotFound:
        return None
    check(not ext.critical, "signetVia is critical")
    raw = ext.value.value  # an OCTET STRING of the licensing server's 8-byte serial prefix
    check(len(raw) == 10 and raw[:2] == b"\x04\x08", "signetVia: %s" % raw.hex())
    return raw[2:].hex()


def acl_prefix(con, name):
    """The serial prefix `acl list` shows for the principal called name."""
    m = re.search(r"  %s  serial prefix ([0-9a-f]{16})$" % name, con.command("acl list"), re.M)
    check(m, "acl list shows no serial prefix for %s" % name, con)
    return m.group(1)


def backdated(cert, issuer, con):
    """notBefore is X509_BACKDATE_SECS (300) before issuance, but never before the issuer's."""
    start, floor = cert.not_valid_before_utc, issuer.not_valid_before_utc
    ago = datetime.now(timezone.utc) - start
    if floor > datetime.now(timezone.utc) - timedelta(seconds=290):
        check(start == floor, "notBefore %s, the issuer's %s: not clamped" % (start, floor), con)
    else:
        check(timedelta(seconds=290) <= ago <= timedelta(seconds=400),
              "notBefore %s is %s before now" % (start, ago), con)
    check(start >= floor, "notBefore %s before the issuer's %s" % (start, floor), con)


def fetch_root_crl(lic, entries, excluded=0):
    """The licensing server fetches its root's CRL until it lists `entries` (the root signs
    again within a second or two of a revocation)."""
    out = ""
    for _ in range(20):
        lic.con.send("crl fetch\n")
        out = lic.con.expect(r"(CRL number \d+ (accepted: (\d+) entries[^\n]*|is the one held)|"
                             r"warning: [^\n]*|error: [^\n]*)\n", 60).group(0)
        lic.con.expect(PROMPT, 30)
        show = lic.con.command("crl show")
        m = re.search(r"root CRL: [^\n]*?(\d+) entries, (\d+) excluded", show)
        if m and int(m.group(1)) >= entries and int(m.group(2)) == excluded:
            return show
        time.sleep(1)
    check(False, "the licensing server never held a root CRL of %d entries: %r" % (entries, out),
          lic.con)


def refused(rc, out, want, what, con):
    check(rc != 0 and want.lower() in out.lower(),
          "%s: expected a refusal with %r: %s" % (what, want, out), con)


def test_revocation_enforced_on_root_and_licensing_server(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok, root = root_server(tmp, auth, port)
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    licensing_prepare(lic.con, auth)
    root_url = "https://%s:%d" % (HOST, root.https_port)
    fp = tls_fingerprint(lic.con)
    check("granted" in root.con.command("acl grant %s lic1" % fp), "acl grant", root.con)
    prefix = acl_prefix(root.con, "lic1")
    check(int(prefix[:2], 16) in range(0x40, 0x80), "prefix %s: no positive serial" % prefix,
          root.con)
    out = online(lic.con, root_url)
    check("SLC installed for 'lic1'" in out, "sub-enrollment: %r" % out, lic.con)
    # The root may not have signed its first CRL when the LS fetched it after sub-enrolling
    # (crl_fetch.c retries in 5 s): fetched here, so the LS serves from now on.
    fetch_root_crl(lic, 0)
    lic_certs = export_certs(lic.con, "slc export", tmp, "lic-slc")
    lic_slc = cert_of(lic_certs[0])
    first_serial = serial_hex(lic_slc)
    # A renewal: another certificate under the same prefix, nothing else the same.
    lic.con.send("renew online %s\n" % root_url)
    out = lic.con.expect(r"(SLC renewed[^\n]*|error: [^\n]*)\n", 60).group(1)
    lic.con.expect(PROMPT, 30)
    check("SLC renewed" in out, "renewal: %r" % out, lic.con)
    fetch_root_crl(lic, 0)
    lic_certs = export_certs(lic.con, "slc export", tmp, "lic-slc-renewed")
    lic_slc = cert_of(lic_certs[0])
    lic_serial = serial_hex(lic_slc)
    # Both serials start with the principal's prefix; the root wrote nothing to its ACL.
    for s in (first_serial, lic_serial):
        check(s.startswith(prefix), "serial %s lacks the prefix %s" % (s, prefix), root.con)
    check(first_serial[16:] != lic_serial[16:], "two serials share their random part", root.con)
    check(acl_prefix(root.con, "lic1") == prefix, "the prefix changed", root.con)
    root_slc = cert_of(export_certs(root.con, "slc export", tmp, "root-slc")[0])
    backdated(lic_slc, root_slc, lic.con)
    check(cdp_uri(lic_slc) == ROOT_CRL, "the LS certificate's CDP: %r" % cdp_uri(lic_slc),
          root.con)

    org = Org(tmp, root.con, lic.con)
    pins = {lic.https_port: tls_fingerprint(lic.con), root.https_port: tls_fingerprint(root.con)}
    alice = org.client("alice@contoso.example", pins)  # certified through the licensing server
    bob = org.client("bob@contoso.example", pins)
    carol = org.client("carol@contoso.example", pins)
    dave = org.client("dave@contoso.example", pins)
    for user, at in ((alice, lic.https_port), (bob, root.https_port), (carol, root.https_port)):
        user.keygen()
        rc, out = user.certify(at)
        check(rc == 0, "certify %s: %s" % (user.user, out), root.con)
    rac = {}
    for user in (alice, bob, carol):
        certs = split_bundle(user.rac, tmp, "rac-" + user.user.split("@")[0])
        openssl_verify(auth.root_pem, certs[0], certs[1:], root.con)
        rac[user.user] = cert_of(certs[0])
        backdated(rac[user.user], root_slc, root.con)
        check(cdp_uri(rac[user.user]) == ROOT_CRL,
              "RAC CDP %r" % cdp_uri(rac[user.user]), root.con)
    check(via_of(rac[alice.user]) == prefix,
          "alice's RAC via %r, the LS prefix %s" % (via_of(rac[alice.user]), prefix), root.con)
    check(via_of(rac[bob.user]) is None, "a RAC certified at the root names a via", root.con)

    # Files protected before anything is revoked, on both.
    plain = os.path.join(tmp, "plan.txt")
    with open(plain, "wb") as f:
        f.write(b"revocation plan\n" * 20)
    protected = {}
    for user, at, name in ((carol, root.https_port, "root"), (alice, lic.https_port, "lic")):
        path = os.path.join(user.dir, "plan-%s.txt" % name)
        with open(path, "wb") as f:
            f.write(open(plain, "rb").read())
        rc, out = user.protect(at, path, "bob@contoso.example:view", "dave@contoso.example:view")
        check(rc == 0, "protect at %s: %s" % (name, out), root.con)
        protected[name] = path + ".signet"
        for other in (bob, dave):
            os.link(path + ".signet", os.path.join(other.dir, os.path.basename(path) + ".signet"))
            os.link(path + ".signet.pl",
                    os.path.join(other.dir, os.path.basename(path) + ".signet.pl"))
    pl_lic = cert_of(split_bundle(protected["lic"] + ".pl", tmp, "pl-lic")[0])
    backdated(pl_lic, lic_slc, lic.con)
    check(cdp_uri(pl_lic) == "https://lic1.example.test/v1/crl", "PL CDP", lic.con)
    mine = lambda u, name: os.path.join(u.dir, "plan-%s.txt.signet" % name)  # noqa: E731
    rc, out = bob.open(root.https_port, mine(bob, "root"), os.path.join(bob.dir, "a.txt"))
    check(rc == 0, "bob opens before revocation: " + out, root.con)

    # Bob's RAC revoked on the root: publish and license refuse it there at once.
    out = root.con.command("revoke %s keyCompromise" % serial_hex(rac[bob.user]))
    check("revoked %s (keyCompromise)" % serial_hex(rac[bob.user]) in out, "revoke: %r" % out,
          root.con)
    want = "revoked: rights account certificate %s" % serial_hex(rac[bob.user])
    rc, out = bob.protect(root.https_port, plain, "carol@contoso.example:view")
    refused(rc, out, want, "bob publishes at the root", root.con)
    rc, out = bob.open(root.https_port, mine(bob, "root"), os.path.join(bob.dir, "b.txt"))
    refused(rc, out, want, "bob licenses at the root", root.con)
    check(not os.path.exists(os.path.join(bob.dir, "b.txt")), "bob got a file")
    audit = root.con.command("audit show 64")
    check(re.search(r"license: refused \(403\) for bob@contoso.example[^\n]*revoked: rights",
                    audit), "the refusal is not audited: %s" % audit, root.con)
    # ... and on the licensing server once it holds the root's CRL.
    rc, out = bob.open(lic.https_port, mine(bob, "lic"), os.path.join(bob.dir, "c.txt"))
    check(rc == 0, "bob opens at the LS before it has the new CRL: " + out, lic.con)
    fetch_root_crl(lic, 1)
    rc, out = bob.protect(lic.https_port, plain, "carol@contoso.example:view")
    refused(rc, out, want, "bob publishes at the LS", lic.con)
    rc, out = bob.open(lic.https_port, mine(bob, "lic"), os.path.join(bob.dir, "d.txt"))
    refused(rc, out, want, "bob licenses at the LS", lic.con)
    # Others are not touched.
    dave.keygen()
    rc, out = dave.certify(lic.https_port)
    check(rc == 0, "dave certifies through the LS: " + out, lic.con)
    rc, out = dave.open(lic.https_port, mine(dave, "lic"), os.path.join(dave.dir, "a.txt"))
    check(rc == 0, "dave opens at the LS: " + out, lic.con)

    # The licensing server revokes the publishing license it issued: nobody gets a license.
    out = lic.con.command("revoke %s superseded" % serial_hex(pl_lic))
    check("revoked" in out and "error" not in out, "revoke the PL: %r" % out, lic.con)
    rc, out = dave.open(lic.https_port, mine(dave, "lic"), os.path.join(dave.dir, "b.txt"))
    refused(rc, out, "revoked: publishing license %s" % serial_hex(pl_lic), "a revoked PL",
            lic.con)

    # An excluded user: no new RAC, and the RAC already held is refused; then let back in.
    out = root.con.command("revoke user carol@contoso.example")
    check("excluded carol@contoso.example" in out, "revoke user: %r" % out, root.con)
    rc, out = carol.certify(root.https_port)
    refused(rc, out, "revoked: carol@contoso.example is excluded", "carol certifies", root.con)
    rc, out = carol.protect(root.https_port, plain, "bob@contoso.example:view")
    refused(rc, out, "revoked: carol@contoso.example is excluded", "carol publishes", root.con)
    # The licensing server refuses her too, from the root's CRL (ARC.8).
    fetch_root_crl(lic, 1, excluded=1)
    rc, out = carol.protect(lic.https_port, plain, "bob@contoso.example:view")
    refused(rc, out, "revoked: carol@contoso.example is excluded", "carol publishes at the LS",
            lic.con)
    check("no longer excluded" in root.con.command("unrevoke user carol@contoso.example"),
          "unrevoke user", root.con)
    rc, out = carol.certify(root.https_port)
    check(rc == 0, "carol certifies again: " + out, root.con)

    # The licensing server's first certificate (the one its renewal replaced) revoked on the
    # root: the root refuses what the server forwards, the RACs it gave out, and its renewal,
    # by the serial prefix they share.
    out = root.con.command("revoke %s keyCompromise" % first_serial)
    check("revoked %s" % first_serial in out, "revoke the LS: %r" % out, root.con)
    want_ls = "revoked: licensing server certificate %s" % first_serial
    erin = org.client("erin@contoso.example", pins)
    erin.keygen()
    rc, out = erin.certify(lic.https_port)
    refused(rc, out, want_ls, "certify forwarded by a revoked LS", lic.con)
    check(not os.path.exists(erin.rac), "erin got a RAC")
    rc, out = alice.protect(root.https_port, plain, "bob@contoso.example:view")
    refused(rc, out, "revoked: licensing server %s" % first_serial, "a RAC via a revoked LS",
            root.con)
    lic.con.send("renew online %s\n" % root_url)
    out = lic.con.expect(r"(SLC renewed[^\n]*|error: [^\n]*)\n", 60).group(1)
    lic.con.expect(PROMPT, 30)
    check(want_ls in out, "renewal of a revoked LS: %r" % out, lic.con)
    check("subenroll: refused (403)" in root.con.command("audit show 16"), "audit", root.con)
    # Once the LS holds the CRL naming its own (current) certificate, it stops serving and says
    # why.
    out = root.con.command("revoke %s keyCompromise" % lic_serial)
    check("revoked %s" % lic_serial in out, "revoke the LS: %r" % out, root.con)
    fetch_root_crl(lic, 3)
    status, body = https_get(lic.https_port, "/health")[:2]
    body = body.decode() if isinstance(body, bytes) else body
    check(status == 503 and "the SLC is revoked by the root (keyCompromise" in body,
          "LS health: %s %r" % (status, body), lic.con)
    rc, out = dave.open(lic.https_port, mine(dave, "root"), os.path.join(dave.dir, "c.txt"))
    refused(rc, out, "not ready: the SLC is revoked by the root", "a revoked LS licenses", lic.con)

    # Granted anew (a fresh grant, a fresh prefix), the server may sub-enroll again.
    root.con.command("acl revoke %s" % fp)
    root.con.command("acl grant %s lic1" % fp)
    check(acl_prefix(root.con, "lic1") != prefix, "a new grant keeps the old prefix", root.con)
    lic.con.close()
    root.con.close()
    auth.close()
    lic_tok.close()
    root_tok.close()
