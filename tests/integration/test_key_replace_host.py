"""Replacing the SLC key pair on the host board, cut off after each token call that changes
something: by a link drop (the board retries) and by a power cut (the board restarts on the same
NV file and token). Afterwards exactly one whole pair is in the token and a request made with it
passes the authority's proof-of-possession check. Also: what status says after a replacement."""
import re
import signal
from collections import Counter

from enrollment import Authority, enroll_offline, export_request, prepare_appliance, trust
from faultproxy import FaultProxy
from harness import PROMPT, check, host_board
from hsm import Token, console_login

SLC = b"signet-slc".hex()
STAGED = b"signet-slc-new".hex()
# What `key generate` with replace asks of the token, in order (counted through the proxy): the
# new pair staged, the old one retired (private half first), the new one renamed, and, with a
# request out for the old key, the configuration replaced to forget it.
REPLACE_CALLS = ["C_GenerateKeyPair", "C_DestroyObject", "C_DestroyObject",
                 "C_SetAttributeValue", "C_SetAttributeValue",
                 "C_CreateObject", "C_DestroyObject", "C_SetAttributeValue"]


def key_objects(tok):
    """(kind, hex CKA_ID) -> how many such key objects the token holds, seen from outside."""
    rc, out = tok.pkcs11_tool("--list-objects")
    check(rc == 0, "pkcs11-tool --list-objects:\n" + out)
    counts = Counter()
    for blk in re.split(r"\n(?=\S)", out):
        kind = re.match(r"(Private|Public) Key Object", blk)
        oid = re.search(r"^\s+ID:\s+([0-9a-f]+)\s*$", blk, re.M)
        if kind and oid:
            counts[(kind.group(1), oid.group(1))] += 1
    return counts


def boot(tmp, proxy, login=True):
    con = host_board(tmp, nv="nv.img", extra=["--hsm", proxy.path])
    con.expect(PROMPT, 20)
    if login:
        console_login(con)
    return con


def start_replace(con):
    con.send("key generate p256\n")
    con.expect("Type 'replace' to replace it: ")
    con.send("replace\n")


def check_one_pair(tok, auth, con, what):
    counts = key_objects(tok)
    check(counts[("Private", SLC)] == 1 and counts[("Public", SLC)] == 1 and
          counts[("Private", STAGED)] == 0 and counts[("Public", STAGED)] == 0,
          "%s: expected one whole SLC pair and nothing staged, the token holds %r" %
          (what, dict(counts)), con)
    req, _ = export_request(con)
    rc, out = auth.issue(req)
    check(rc == 0, "%s: the authority refused the request made with the key:\n%s" % (what, out),
          con)


def test_replace_cut_after_every_token_call(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    proxy = FaultProxy(tmp, tok.sock)
    con = boot(tmp, proxy, login=False)
    prepare_appliance(con, alg="p256")
    trust(con, auth)
    check_one_pair(tok, auth, con, "first key")  # and a request is out for it
    # A clean run first: the calls a replacement makes, the points to cut at.
    proxy.count()
    start_replace(con)
    con.expect("SLC key pair created", 60)
    con.expect(PROMPT)
    check(proxy.calls() == REPLACE_CALLS, "a replacement made %r" % proxy.calls(), con)
    check_one_pair(tok, auth, con, "clean run")
    for n, call in enumerate(REPLACE_CALLS, 1):
        what = "link dropped after call %d (%s)" % (n, call)
        proxy.arm(n, "drop")
        start_replace(con)
        out = con.expect(r"SLC key pair created|error: .*", 60).group(0)
        con.expect(PROMPT)
        check(proxy.fired.is_set(), "%s: the proxy never cut" % what, con)
        check(out.startswith("SLC key pair created"), "%s: the retry said %r" % (what, out), con)
        check_one_pair(tok, auth, con, what)
    # The power cut: right after the token carried out call n, and right before call n reached it.
    for before in (False, True):
        for n, call in enumerate(REPLACE_CALLS, 1):
            what = "power cut %s call %d (%s)" % ("before" if before else "after", n, call)
            board = con
            proxy.arm(n, "power", on_power=lambda: board.signal(signal.SIGKILL), before=before)
            start_replace(con)
            check(proxy.fired.wait(60), "%s: the proxy never cut" % what, con)
            con.wait_exit()
            con.close()
            con = boot(tmp, proxy)
            # What the token holds is readable again: no "the token did not answer".
            for cmd in ("slc show", "config show", "acl list"):
                out = con.command(cmd)
                check("error" not in out, "%s: %s said %r" % (what, cmd, out), con)
            check_one_pair(tok, auth, con, what)
    con.close()
    auth.close()
    tok.close()


def test_first_key_whose_answer_is_lost_is_made_once(tmp):
    """The link drops after C_GenerateKeyPair of the first key: the retry finds it and says so."""
    auth = Authority(tmp)
    tok = Token(tmp)
    proxy = FaultProxy(tmp, tok.sock)
    con = boot(tmp, proxy)
    proxy.arm(1, "drop")
    out = con.command("key generate p256", 60)
    check(proxy.fired.is_set(), "the proxy never cut", con)
    check("SLC key pair created" in out and "error" not in out, "key generate: %r" % out, con)
    check(con.command("config name root1") == "server name: root1\n", "config name", con)
    check(con.command("config cluster-url https://rms.example.test/") ==
          "cluster URL: https://rms.example.test/\n", "config cluster-url", con)
    trust(con, auth)
    check_one_pair(tok, auth, con, "first key, answer lost")
    con.close()
    auth.close()
    tok.close()


def test_damaged_pair_is_refused_and_replace_repairs_it(tmp):
    """Two public keys under the SLC's id (what the old firmware could leave): never used."""
    auth = Authority(tmp)
    tok = Token(tmp)
    proxy = FaultProxy(tmp, tok.sock)
    con = boot(tmp, proxy, login=False)
    prepare_appliance(con, alg="p256")
    trust(con, auth)
    rc, out = tok.pkcs11_tool("--keypairgen", "--key-type", "EC:prime256v1", "--id", SLC,
                              "--label", "stray")
    check(rc == 0, "pkcs11-tool --keypairgen:\n" + out)
    con.command("logout")
    console_login(con)
    out = con.command("enroll export")
    check("more than one key, or half a pair" in out, "export with a damaged pair: %r" % out, con)
    out = con.command("key sign x")
    check("more than one key, or half a pair" in out, "signing with a damaged pair: %r" % out, con)
    con.send("key generate p256\n")
    con.expect("damaged")
    con.expect("Type 'replace' to replace it: ")
    con.send("replace\n")
    con.expect("SLC key pair created", 60)
    con.expect(PROMPT)
    check_one_pair(tok, auth, con, "after replacing a damaged pair")
    con.close()
    auth.close()
    tok.close()


def test_status_after_replacing_an_enrolled_key(tmp):
    """The old SLC is not for the new key: state "key generated", no days left, no warning."""
    auth = Authority(tmp)
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, 20)
    prepare_appliance(con, alg="p256")
    trust(con, auth)
    enroll_offline(con, auth)
    check("enrollment: enrolled" in con.command("status"), "not enrolled", con)
    start_replace(con)
    con.expect("SLC key pair created", 60)
    con.expect(PROMPT)
    status = con.command("status")
    check("enrollment: key generated" in status, "state after replacing:\n" + status, con)
    check("days left" not in status and "warning" not in status and
          "the stored one is for a replaced key" in status, "status after replacing:\n" + status,
          con)
    slc = con.command("slc show")
    check("days left" not in slc and "for a replaced key" in slc, "slc show:\n" + slc, con)
    con.command("logout")
    console_login(con)  # login checks the expiry and audits a warning when it is near
    audit = con.command("audit show")
    check("expires in" not in audit and "has expired" not in audit, "audit:\n" + audit, con)
    con.close()
    auth.close()
    tok.close()
