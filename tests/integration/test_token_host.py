"""The HSM link on the host board, against a real SoftHSM2 token behind stock `p11-kit server`."""
import re
import signal
import time

from harness import PROMPT, check, host_board
from signing import export_slc_public_key, openssl_verifies, private_key_report
from hsm import USER_PIN, Token, console_login

BOOT = 20


def board_with_token(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    return tok, con


def try_login(con, pin):
    con.send("login\n")
    con.expect("PIN: ")
    con.send(pin + "\n")


def test_token_info_describes_the_token(tmp):
    tok, con = board_with_token(tmp)
    out = con.command("token info")
    for want in ("label:        signet", "manufacturer: SoftHSM", "model:        SoftHSM v2",
                 "user PIN:     ok", "sha256-rsa-pkcs", "rsa-oaep", "SLC key:      (login to see)"):
        check(want in out, "token info lacks %r" % want, con)
    tok.close()


def test_wrong_pin_refused_and_never_echoed(tmp):
    tok, con = board_with_token(tmp)
    try_login(con, "99999999")
    con.expect(r"error: PIN incorrect \(0xa0\)")
    con.expect(r"signet> $")
    check("99999999" not in con.output_since(0), "the PIN appeared on the console", con)
    out = con.command("key generate")
    check("error: 'key generate' needs login first" in out, "mutating command ran without login",
          con)
    console_login(con)
    check(con.output_since(0).endswith("signet# "), "the prompt should show the login", con)
    check(USER_PIN not in con.output_since(0), "the PIN appeared on the console", con)
    out = con.command("status")
    check("login:     yes" in out and "token link: up" in out, "status after login", con)
    con.command("logout")
    out = con.command("key sign x")
    check("needs login first" in out, "logout did not drop the privilege", con)
    tok.close()


def test_key_generate_is_non_extractable_and_signs_verifiably(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    out = con.command("key generate rsa2048", 60)
    check("SLC key pair created" in out, "key generate failed: %r" % out, con)
    report = private_key_report(tok)
    check("Signet SLC key" in report, "pkcs11-tool does not see the SLC key", con)
    check("sensitive" in report and "never extractable" in report,
          "the SLC private key is not sensitive and non-extractable:\n" + report, con)
    usage = re.search(r"Usage:\s*(.*)", report).group(1).strip()
    check(usage == "sign", "the SLC key may do more than sign: %r" % usage, con)
    pem = export_slc_public_key(tok, tmp)
    out = con.command("key sign hello-signet")
    sig = re.search(r"^signature: (\S+)$", out, re.M)
    check(sig is not None, "key sign printed no signature", con)
    check(openssl_verifies(pem, "hello-signet", sig.group(1), tmp),
          "openssl does not verify the firmware's signature", con)
    check(not openssl_verifies(pem, "hello-signeT", sig.group(1), tmp),
          "openssl verified a signature over other data", con)
    tok.close()


def test_p256_key_signs_verifiably(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    out = con.command("key generate p256", 60)
    check("SLC key pair created" in out, "key generate p256 failed: %r" % out, con)
    report = private_key_report(tok)
    check("EC" in report and "never extractable" in report, report, con)
    pem = export_slc_public_key(tok, tmp)
    for text in ("p256-one", "p256-two"):
        out = con.command("key sign " + text)
        m = re.search(r"^signature: (\S+)$", out, re.M)
        check(m and openssl_verifies(pem, text, m.group(1), tmp),
              "openssl does not verify the P-256 signature over %r" % text, con)
    tok.close()


def test_existing_key_needs_confirmation_to_replace(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    con.command("key generate", 60)
    first = export_slc_public_key(tok, tmp)
    first_pem = open(first).read()
    con.send("key generate\n")
    con.expect("already exists")
    con.expect("Type 'replace' to replace it: ")
    con.send("no\n")
    con.expect("kept the existing SLC key")
    con.expect(PROMPT)
    check(open(export_slc_public_key(tok, tmp)).read() == first_pem, "key changed without consent",
          con)
    con.send("key generate p256\n")
    con.expect("Type 'replace' to replace it: ")
    con.send("replace\n")
    con.expect("SLC key pair created", 60)
    con.expect(PROMPT)
    report = private_key_report(tok)
    check(report.count("Private Key Object") == 1 and "EC" in report,
          "expected exactly one (EC) SLC private key after replacing:\n" + report, con)
    tok.close()


def test_selftest_round_trips_every_call(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    out = con.command("token selftest", 120)
    for call in ("C_GetInfo", "C_GetSlotList", "C_GetTokenInfo", "C_GetMechanismList",
                 "C_OpenSession", "C_CloseSession", "C_GenerateRandom", "C_CreateObject",
                 "C_GetAttributeValue", "C_SetAttributeValue", "C_FindObjects", "C_DestroyObject",
                 "C_GenerateKey", "C_GenerateKeyPair", "C_Sign sha256-rsa-pkcs", "C_Verify",
                 "C_Sign/C_Verify rsa-pss", "C_Encrypt rsa-oaep", "C_Decrypt rsa-oaep",
                 "C_WrapKey rsa-oaep", "C_UnwrapKey rsa-oaep", "unwrapped key equals the original"):
        check("  ok    " + call + "\n" in out, "selftest step %s did not pass" % call, con)
    check("token selftest passed" in out, "selftest reported failures", con)
    # Session objects only: nothing is left behind in the token.
    rc, objs = tok.pkcs11_tool("--list-objects")
    check("signet-selftest" not in objs, "selftest left objects in the token:\n" + objs, con)
    tok.close()


def test_signing_loop_survives_server_restart(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    con.command("key generate", 60)
    pem = export_slc_public_key(tok, tmp)
    results = []
    for i in range(16):
        if i == 5:
            tok.stop()  # the link drops: server and its per-connection child are gone
        if i == 7:
            tok.start()
        out = con.command("key sign loop-%d" % i, 60)
        m = re.search(r"^signature: (\S+)$", out, re.M)
        results.append(bool(m) and openssl_verifies(pem, "loop-%d" % i, m.group(1), tmp))
        if i in (5, 6):
            check("error: token link down" in out, "expected a clean link error: %r" % out, con)
    check(all(results[:5]) and all(results[7:]),
          "signing did not resume by itself after the restart: %s" % results, con)
    out = con.command("status")
    check("token link: up, 2 connects" in out, "status should show the reconnect", con)
    check("re-logged in after link loss" in out, "status should show the re-login", con)
    tok.close()


def test_stalled_server_fails_the_call_not_the_appliance(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    con.command("key generate", 60)
    tok.signal(signal.SIGSTOP)  # the token stops answering but keeps the connection open
    t0 = time.monotonic()
    out = con.command("key sign while-stalled", 60)
    took = time.monotonic() - t0
    check("error: token link down" in out, "a stalled token must fail the call: %r" % out, con)
    check(took < 15, "the call took %.1fs; the bound is 5 s per call plus 2 s reconnect" % took,
          con)
    check("watchdog" not in con.output_since(0), "the watchdog fired during a bounded wait", con)
    out = con.command("version")
    check("board host" in out, "the console must keep working while the token is stalled", con)
    tok.signal(signal.SIGCONT)
    ok = False
    for i in range(5):
        out = con.command("key sign after-stall-%d" % i, 60)
        if out.startswith("signature: "):
            ok = True
            break
    check(ok, "signing did not resume after the token came back: %r" % out, con)
    tok.close()


def test_held_pin_refused_after_reconnect_is_dropped(tmp):
    tok, con = board_with_token(tmp)
    console_login(con)
    con.command("key generate", 60)
    # Someone changes the user PIN elsewhere; then the link drops and comes back.
    rc, out = tok.pkcs11_tool("--change-pin", "--pin", USER_PIN, "--new-pin", "654321",
                              login=False)
    check(rc == 0, "could not change the PIN from outside:\n" + out, con)
    tok.stop()
    tok.start()
    out = con.command("key sign after-pin-change", 60)
    check("error: PIN incorrect" in out, "re-login with the stale PIN should fail: %r" % out, con)
    check(con.output_since(0).endswith("signet> "), "the console must drop its login", con)
    out = con.command("status")
    check("login:     no" in out, "the stale PIN must be forgotten, not retried", con)
    out = con.command("key sign again")
    check("needs login first" in out, "no further attempts with the stale PIN", con)
    tok.close()


def test_without_a_token_the_console_still_works(tmp):
    con = host_board(tmp, extra=["--hsm", tmp + "/no-such.sock"])
    con.expect(PROMPT, BOOT)
    t0 = time.monotonic()
    out = con.command("token info")
    check(out.strip() == "error: token link down (0x30)", "token info without a token: %r" % out,
          con)
    check(time.monotonic() - t0 < 5, "a missing token should fail fast on the host board", con)
    out = con.command("status")
    check("token link: down" in out, "status should show the link down", con)
