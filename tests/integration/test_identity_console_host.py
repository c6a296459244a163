"""Identity sources on the host board's console: an operator trusts their organisations' user CAs
(RSA and EC) for name domains, lists and removes them; every refusal (a leaf, an expired CA, bad
domains, garbage, two certificates at once) changes nothing and is audited; the sources live in
the token, so they survive a reboot and a cluster member on the same token sees them."""
import os
import re
import time

from enrollment import paste
from harness import PROMPT, check, host_board
from hsm import Token, console_login
from identity import OrgCA, identity_import

FP = r"[0-9A-F]{2}(?::[0-9A-F]{2}){31}"
EMPTY = "(no identity source is trusted: user endpoints answer 403)"


def board(tmp, tok, nv="nv.img"):
    con = host_board(tmp, nv=nv, extra=["--hsm", tok.sock])
    con.expect(PROMPT, 30)
    return con


def stored(tok):
    """The token's identity object as bytes (None: there is none), read from outside."""
    path = os.path.join(tok.dir, "identity.bin")
    if os.path.exists(path):
        os.unlink(path)
    rc, _ = tok.pkcs11_tool("--read-object", "--type", "data", "--label", "signet-identity",
                            "--output-file", path)
    if rc != 0 or not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def refused(con, tok, out, reason, before):
    """out is a refusal for reason; the listing and the token's object are as they were, and the
    refusal is in the audit log with its reason."""
    check(re.search(r"error: [^\n]*%s[^\n]*; nothing changed" % re.escape(reason), out),
          "not refused with %r: %r" % (reason, out), con)
    check((con.command("identity list"), stored(tok)) == before, "a refusal changed something",
          con)
    audit = con.command("audit show")
    check(re.search(r"identity (import|remove): refused: [^\n]*%s" % re.escape(reason), audit),
          "refusal %r not audited:\n%s" % (reason, audit), con)


def test_identity_sources_import_list_remove_refusals_reboot(tmp):
    tok = Token(tmp)
    con = board(tmp, tok)
    contoso = OrgCA(tmp, "Contoso Users CA")
    fabrikam = OrgCA(tmp, "Fabrikam Users CA", alg="ec")

    # Not logged in: nothing to see, nothing to change.
    for cmd in ("identity list", "identity import contoso.example",
                "identity remove " + contoso.fp):
        out = con.command(cmd)
        check("needs login first" in out, "%s without login: %r" % (cmd, out), con)
    check(stored(tok) is None, "an identity object without any import", con)

    console_login(con)
    audit = con.command("audit show")
    check("identity import: refused: not logged in" in audit and
          "identity remove: refused: not logged in" in audit,
          "changes without login not audited:\n" + audit, con)
    check(con.command("identity list").strip() == EMPTY, "a fresh appliance trusts a source", con)
    fp1 = identity_import(con, contoso, "contoso.example,corp.contoso.example")
    check(fp1 == contoso.fp, "the fingerprint printed is not the CA's: %s" % fp1, con)
    out = paste(con, "identity import Fabrikam.Example", fabrikam.text())
    check(re.search(r"identity source trusted: CN=Fabrikam Users CA[^\n]* \(fabrikam\.example\)\n"
                    r"fingerprint: %s\n" % re.escape(fabrikam.fp), out),
          "the EC source: %r" % out, con)

    listing = con.command("identity list")
    lines = listing.strip().split("\n")
    check(len(lines) == 2, "two sources: %r" % listing, con)
    check(re.match(r"%s  CN=Contoso Users CA[^\n]*  contoso\.example,corp\.contoso\.example  "
                   r"until \d{4}-\d\d-\d\d$" % re.escape(contoso.fp), lines[0]),
          "the RSA source's line: %r" % lines[0], con)
    check(re.match(r"%s  CN=Fabrikam Users CA[^\n]*  fabrikam\.example  until \d{4}-" %
                   re.escape(fabrikam.fp), lines[1]), "the EC source's line: %r" % lines[1], con)
    audit = con.command("audit show")
    check(re.search(r"identity import %s 'CN=Contoso Users CA[^']*' "
                    r"contoso\.example,corp\.contoso\.example" % re.escape(contoso.fp), audit) and
          re.search(r"identity import %s 'CN=Fabrikam Users CA[^']*' fabrikam\.example" %
                    re.escape(fabrikam.fp), audit), "imports not audited:\n" + audit, con)

    # Refusals: each changes nothing and is audited.
    before = (listing, stored(tok))
    check(before[1], "no identity object in the token after two imports", con)
    alice = contoso.user("alice@contoso.example")
    with open(alice.cert) as f:
        leaf = f.read()
    out = paste(con, "identity import contoso.example", leaf)
    check("error: " in out and "nothing changed" in out, "a leaf as a source: %r" % out, con)
    refused(con, tok, out, re.search(r"error: ([^;\n]*)", out).group(1), before)
    old = OrgCA(tmp, "Old Users CA", expired=True)
    out = paste(con, "identity import old.example", old.text())
    check("error: " in out and "nothing changed" in out, "an expired CA: %r" % out, con)
    refused(con, tok, out, re.search(r"error: ([^;\n]*)", out).group(1), before)
    for domains, reason in (("contoso..example", "domain 1 is not a DNS name"),
                            ("", "name at least one domain"),
                            (",".join("d%d.example" % i for i in range(9)),
                             "at most 8 domains per identity source"),
                            ("a.example,A.example", "domain a.example is named twice")):
        # Refused before anything is pasted: the prompt comes straight back.
        out = con.command(("identity import " + domains).strip())
        check("Paste the" not in out, "asked for a paste with bad domains %r" % domains, con)
        refused(con, tok, out, reason, before)
    garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    out = paste(con, "identity import contoso.example", garbage)
    refused(con, tok, out, re.search(r"error: ([^;\n]*)", out).group(1), before)
    out = paste(con, "identity import contoso.example", "not even armor\n" + garbage[:-1] + "!\n")
    check("error: " in out, "a damaged paste: %r" % out, con)
    check((con.command("identity list"), stored(tok)) == before, "a damaged paste changed", con)
    out = paste(con, "identity import contoso.example", contoso.text() + fabrikam.text())
    refused(con, tok, out, "text follows the END line", before)
    check(con.command("status"), "the console after a refused double paste", con)
    out = con.command("identity remove " + alice.fp)
    refused(con, tok, out, "no identity source has that fingerprint", before)
    out = con.command("identity remove AB:CD")
    refused(con, tok, out, "a fingerprint is 32 bytes in hex", before)

    # Importing a trusted source again replaces its domains.
    identity_import(con, contoso, "contoso.example")
    check("%s  CN=Contoso Users CA" % contoso.fp in con.command("identity list") and
          "corp.contoso.example" not in con.command("identity list"), "domains not replaced", con)
    check(len(con.command("identity list").strip().split("\n")) == 2, "a second copy", con)

    out = con.command("identity remove " + fabrikam.fp.lower().replace(":", ""))
    check(re.search(r"identity source removed: CN=Fabrikam Users CA", out), "remove: %r" % out,
          con)
    check(re.search(r"identity remove %s 'CN=Fabrikam Users CA" % re.escape(fabrikam.fp),
                    con.command("audit show")), "remove not audited", con)

    # The sources live in the token: a reboot finds them.
    con.send("reboot\n")
    con.expect("boot #2", 30)
    con.expect(PROMPT, 30)
    console_login(con)
    lines = con.command("identity list").strip().split("\n")
    check(len(lines) == 1 and lines[0].startswith(contoso.fp + "  CN=Contoso Users CA") and
          lines[0].split("  ")[2] == "contoso.example", "after the reboot: %r" % lines, con)
    con.close()
    tok.close()


def wait_listing(con, pred, what, timeout=150):
    """The state refresh (every minute) brings the token's change to a cluster member."""
    deadline = time.monotonic() + timeout
    while True:
        listing = con.command("identity list")
        if pred(listing):
            return listing
        check(time.monotonic() < deadline, "the member never saw %s: %r" % (what, listing), con)
        time.sleep(5)


def test_cluster_members_share_identity_sources(tmp):
    tok = Token(tmp)
    a = board(tmp, tok, nv="a.img")
    b = board(tmp, tok, nv="b.img")
    console_login(a)
    console_login(b)
    check(b.command("identity list").strip() == EMPTY, "member b trusts a source", b)
    contoso = OrgCA(tmp, "Contoso Users CA", intermediate=True)
    fp = identity_import(a, contoso, "contoso.example")
    wait_listing(b, lambda text: text.startswith(fp + "  CN=Contoso Users CA"), "the import")
    out = a.command("identity remove " + fp)
    check("identity source removed" in out, "remove on a: %r" % out, a)
    wait_listing(b, lambda text: text.strip() == EMPTY, "the removal")
    a.close()
    b.close()
    tok.close()
