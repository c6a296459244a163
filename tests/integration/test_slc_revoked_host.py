"""The enrollment authority revokes a root cluster's SLC (docs/authority.md, docs/requirements.md
R20): `crl import` of its CRL on the appliance stops every service and `status`, `/health` and
the audit log say why; an older CRL cannot undo it; `renew online` brings a fresh SLC and fetches
the authority's CRL, which lists only the old serial, and the appliance serves again."""
import os
import re

from enrollment import Authority, paste, prepare_appliance, slc_show, trust
from harness import check
from hsm import Token
from netboard import host_on_network, http_get, https_get, wait_health


def authority_crl(auth, name):
    """`signet-authority crl --pem` into the authority's directory: (PEM text, CRL number)."""
    path = os.path.join(auth.dir, name)
    rc, out = auth.run("crl", "--out", path, "--pem")
    check(rc == 0, "signet-authority crl failed:\n" + out)
    number = int(re.search(r"CRL number (\d+):", out).group(1))
    with open(path) as f:
        return f.read(), number


def held(con):
    """The authority CRL line of `crl show`: (number, entries) or None."""
    out = con.command("crl show")
    m = re.search(r"^authority CRL: number (\d+), .*?, (\d+) entries", out, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None, out


def test_authority_revokes_the_slc_then_renewal_serves_again(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    url = "http://10.0.2.2:%d" % port  # the user network's view of the host's loopback
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con, alg="p256")
    trust(con, auth)
    out = con.command("enroll online " + url, 60)
    check("enroll online: SLC installed for 'root1'" in out, "enroll online: %r" % out, con)
    # enroll online fetched the authority's CRL (number 1, empty) after success.
    first, text = held(con)
    check(first == (1, 0), "after enroll online the authority's CRL 1 is held:\n" + text, con)
    wait_health(con, lambda: https_get(nb.https_port), (200, "ok\n"))
    st = con.command("status")
    check("serving:" not in st, "status of a serving appliance says it is not:\n" + st, con)
    old, _ = slc_show(con)
    serial = old["serial"].replace(":", "").lower()
    check(re.fullmatch(r"[0-9a-f]{32}", serial), "slc show serial: %r" % old, con)

    # A CRL made before the revocation (number 2, empty), kept to try to undo it with later.
    before_pem, number = authority_crl(auth, "before.crl")
    check(number == 2, "the second CRL is number %d" % number)
    # The authority takes the SLC back; its CRL is pasted on the appliance.
    rc, out = auth.run("revoke", serial, "--reason", "keyCompromise")
    check(rc == 0, "signet-authority revoke failed:\n" + out)
    crl_pem, number = authority_crl(auth, "revoked.crl")
    check(number == 3, "the CRL after the revocation is number %d, want 3" % number)
    out = paste(con, "crl import", crl_pem)
    check("the authority's CRL number 3 accepted: 1 entries" in out, "crl import: %r" % out, con)
    want = r"serving:   no: the SLC is revoked by the authority \(keyCompromise, \d{4}-\d\d-\d\dT"
    check(re.search(want, out), "crl import does not say serving stopped: %r" % out, con)
    st = con.command("status")
    check(re.search(want, st), "status does not say why it is not serving:\n" + st, con)
    for fetch in (lambda: https_get(nb.https_port), lambda: http_get(nb.http_port)):
        status, body = fetch()
        check(status == 503 and body.startswith("not ready: the SLC is revoked by the authority "
                                                "(keyCompromise"),
              "/health of a revoked appliance: %r" % ((status, body),), con)
    status, body = https_get(nb.https_port, "/v1/certify", "POST", b"<x/>")
    check(status == 503 and "revoked by the authority" in body,
          "an issuing endpoint of a revoked appliance: %r" % ((status, body),), con)
    check(re.search(r"serving stopped: the SLC is revoked by the authority",
                    con.command("audit show")), "the stop is not audited", con)

    # The older CRL (signed by the authority, but number 2, without the entry) cannot undo it;
    # nor can a CRL whose bytes were changed.
    out = paste(con, "crl import", before_pem)
    check("accepted" not in out and "error: " in out, "an older CRL was accepted: %r" % out, con)
    lines = crl_pem.splitlines()
    mid = len(lines) // 2
    lines[mid] = lines[mid][:10] + ("A" if lines[mid][10] != "A" else "B") + lines[mid][11:]
    out = paste(con, "crl import", "\n".join(lines) + "\n")
    check("error: " in out and "accepted" not in out, "a tampered CRL was accepted: %r" % out,
          con)
    check(held(con)[0] == (3, 1), "a refused CRL changed what is held", con)
    st = con.command("status")
    check(re.search(want, st), "after refusals the appliance serves again:\n" + st, con)

    # Renewal: a new SLC with a new serial; renew online fetches the current CRL (listing only
    # the old serial) and the appliance serves again.
    out = con.command("renew online " + url, 60)
    check("renew online: SLC renewed for 'root1'" in out, "renew online: %r" % out, con)
    new, _ = slc_show(con)
    check(new["serial"] != old["serial"], "renewal kept the serial", con)
    now, text = held(con)
    check(now is not None and now[0] >= 4 and now[1] == 1,
          "renew online did not fetch the authority's current CRL:\n" + text, con)
    wait_health(con, lambda: https_get(nb.https_port), (200, "ok\n"))
    st = con.command("status")
    check("serving:" not in st, "the renewed appliance still does not serve:\n" + st, con)
    # The CRL 3 pasted again: older than the one held, nothing changes.
    out = paste(con, "crl import", crl_pem)
    check("accepted" not in out and held(con)[0] == now,
          "an older CRL replaced the held one: %r" % out, con)
    auth.close()
    tok.close()
