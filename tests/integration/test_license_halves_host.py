"""A use license is checked in the net task and only re-wrapped and signed in the token task
(docs/hsm-link.md "Issuing in the token task"). Before the content-key encryption key is loaded —
after a boot, after a new login — the whole request goes to the token task instead, which loads it
and then checks the same way. Both paths must answer alike: a license for the user the policy
names, a refusal with a one-line reason for one it does not."""
import http.client
import re

from enrollment import enrolled_root
from harness import check
from hsm import console_login
from netboard import https_context
from rights import Org, certify_body, post, publish_body


def license_body(publish_answer, certify_answer):
    pl = re.search(r"<PublishingLicense>.*?</PublishingLicense>", publish_answer, re.S).group(0)
    rac = re.search(r"<RightsAccountCertificate>.*?</RightsAccountCertificate>", certify_answer,
                    re.S).group(0)
    chain = re.search(r"<Chain>.*?</Chain>", certify_answer, re.S).group(0)
    return ("<SignetLicenseRequest version=\"1\">%s%s%s</SignetLicenseRequest>" %
            (pl, rac, chain)).encode()


def user_conn(nb, user):
    return http.client.HTTPSConnection("127.0.0.1", nb.https_port, timeout=60,
                                       context=https_context(user.cert, user.key))


def test_use_licenses_before_and_after_the_content_key_encryption_key_is_loaded(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    org = Org(tmp, con)
    alice, bob, eve = (org.user(n + "@contoso.example") for n in ("alice", "bob", "eve"))
    racs = {}
    for name, user in (("alice", alice), ("bob", bob), ("eve", eve)):
        c = user_conn(nb, user)
        status, text = post(c, "/v1/certify", certify_body(tmp, name + "@contoso.example"))
        check(status == 200, "certify %s: %d %r" % (name, status, text[:200]), con)
        racs[name] = (user, c, text)
    alice_conn, alice_rac = racs["alice"][1], racs["alice"][2]
    status, published = post(alice_conn, "/v1/publish", publish_body(alice_rac))  # grants bob
    check(status == 200, "publish: %d %r" % (status, published[:200]), con)

    def license_for(name):
        user, c, rac = racs[name]
        return post(c, "/v1/license", license_body(published, rac))

    # A new login: the token's handles are new, so the CKEK is loaded again, by the first
    # license request, in the token task.
    for round_ in ("after publishing", "after a new login"):
        for name, want in (("bob", 200), ("eve", 403), ("bob", 200)):
            status, text = license_for(name)
            check(status == want, "%s, license for %s: %d %r (wanted %d)" %
                  (round_, name, status, text[:200], want), con)
            if want == 200:
                check("<UseLicense>" in text, "no use license for %s: %r" % (name, text[:200]),
                      con)
            else:
                check(text.endswith("\n") and text.count("\n") == 1 and
                      "does not name eve@contoso.example" in text,
                      "the refusal for eve: %r" % text, con)
        con.command("logout")
        console_login(con)
    out = con.command("audit show 20")
    check("license: refused (403) for eve@contoso.example" in out,
          "the refusal is not audited:\n" + out, con)
    for _, c, _ in racs.values():
        c.close()
    auth.close()
    tok.close()
