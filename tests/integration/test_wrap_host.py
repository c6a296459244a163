"""Content keys in the token (the CKEK, publishing and licensing), against SoftHSM2 behind
`p11-kit server`: what a user's openssl decrypts is the key the token made, a licence re-wraps the
same key, and nothing of it stays behind in the token."""
import base64
import os
import re
import subprocess
import textwrap

from enrollment import paste
from harness import PROMPT, check, host_board
from hsm import Token, console_login

BOOT = 20
CKEK_ID_HEX = b"signet-ckek".hex()


def openssl(*args, data=None):
    res = subprocess.run(["openssl"] + list(args), input=data, capture_output=True, timeout=60)
    return res.returncode, res.stdout, res.stderr.decode(errors="replace")


def user_key(tmp, name, algorithm="RSA", opts=("rsa_keygen_bits:2048",)):
    """A user's key pair made by openssl; returns (private key path, public key PEM)."""
    key = os.path.join(tmp, name + ".key")
    argv = ["genpkey", "-algorithm", algorithm, "-out", key]
    for o in opts:
        argv += ["-pkeyopt", o]
    rc, _, err = openssl(*argv)
    check(rc == 0, "openssl genpkey %s failed: %s" % (name, err))
    rc, pub, err = openssl("pkey", "-in", key, "-pubout")
    check(rc == 0, "openssl pkey -pubout failed: " + err)
    return key, pub.decode()


def oaep_decrypt(key, blob, tmp):
    """What the user does with a licence: open the wrapped content key with the private key."""
    path = os.path.join(tmp, "wrapped.bin")
    with open(path, "wb") as f:
        f.write(blob)
    rc, out, err = openssl("pkeyutl", "-decrypt", "-inkey", key, "-in", path,
                           "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1")
    return out if rc == 0 else None


def armor(blob, label="SIGNET WRAPPED KEY"):
    body = "\n".join(textwrap.wrap(base64.b64encode(blob).decode(), 64))
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, body, label)


def board(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    console_login(con)
    return tok, con


CKEK_SPKI = []  # what the last `test ckek-generate` printed, DER


def make_ckek(con):
    out = con.command("test ckek-generate", 60)
    check("CKEK created" in out, "test ckek-generate failed: %r" % out, con)
    m = re.search(r"^CKEK public key: (\S+)$", out, re.M)
    check(m, "test ckek-generate printed no public key: %r" % out, con)
    CKEK_SPKI.append(base64.b64decode(m.group(1)))


def content_new(con, pub_pem):
    """Returns (for-ckek, for-user) as bytes, or the console output when it printed none."""
    out = paste(con, "test content-new", pub_pem)
    ck = re.search(r"^for-ckek: (\S+)$", out, re.M)
    us = re.search(r"^for-user: (\S+)$", out, re.M)
    if not ck or not us:
        return None, out
    return (base64.b64decode(ck.group(1)), base64.b64decode(us.group(1))), out


def content_rewrap(con, blob_armored, pub_pem):
    """Returns the re-wrapped key as bytes (None when refused) and the console output."""
    con.send("test content-rewrap\n")
    con.expect("Paste the content key wrapped to the CKEK .*Ctrl-C cancels.\n")
    start = con.pos
    con.send(blob_armored)
    m = con.expect(r"Paste the user's public key .*Ctrl-C cancels.\n|^error: .*\n")
    if m.group(0).startswith("error: "):
        con.expect(PROMPT)
        return None, m.group(0)
    con.send(pub_pem)
    end = con.expect(PROMPT, 60).start()
    out = con.output_since(start)[:end - start]
    m = re.search(r"^rewrapped: (\S+)$", out, re.M)
    return (base64.b64decode(m.group(1)) if m else None), out


def objects(listing):
    """pkcs11-tool --list-objects as (kind, block) pairs."""
    parts = re.split(r"^(Private Key Object|Public Key Object|Secret Key Object|"
                     r"Certificate Object|Data object \d+)", listing, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def session_objects(con):
    out = con.command("test session-objects")
    m = re.search(r"session objects: (\d+) secret keys, (\d+) public keys \((\d+) cached", out)
    check(m, "test session-objects printed %r" % out, con)
    return tuple(int(g) for g in m.groups())


def test_publish_and_license_round_trip(tmp):
    tok, con = board(tmp)
    a_key, a_pub = user_key(tmp, "user-a")
    b_key, b_pub = user_key(tmp, "user-b", opts=("rsa_keygen_bits:3072",))
    make_ckek(con)

    wrapped, out = content_new(con, a_pub)
    check(wrapped, "test content-new printed no wrapped keys: %r" % out, con)
    for_ckek, for_user = wrapped
    check(len(for_ckek) == 256, "the CKEK is RSA-2048: %d bytes wrapped" % len(for_ckek), con)
    k = oaep_decrypt(a_key, for_user, tmp)
    check(k is not None and len(k) == 32, "user A's key does not open for-user to 32 bytes", con)
    check(oaep_decrypt(b_key, for_user, tmp) is None, "user B opened a key wrapped to A", con)

    rewrapped, out = content_rewrap(con, armor(for_ckek), b_pub)
    check(rewrapped and len(rewrapped) == 384, "rewrap to B (3072 bits) failed: %r" % out, con)
    check(oaep_decrypt(b_key, rewrapped, tmp) == k,
          "B does not find the same content key in the licence", con)

    # Another content key for the same user is another key, and a returning user costs no import:
    # the cache holds A and B, and no content key outlives its call.
    again, _ = content_new(con, a_pub)
    check(again and oaep_decrypt(a_key, again[1], tmp) not in (None, k),
          "a second content key should differ from the first", con)
    check(session_objects(con) == (0, 2, 2),
          "session objects after the run: expected no secret keys and the 2 cached user keys, "
          "got %r" % (session_objects(con),), con)
    # The clear content key never crossed the link, so it is nowhere in what the board printed.
    check(k.hex() not in con.output_since(0) and base64.b64encode(k).decode() not in
          con.output_since(0), "the content key appeared on the console", con)
    tok.close()


def test_refusals_change_nothing(tmp):
    tok, con = board(tmp)
    a_key, a_pub = user_key(tmp, "user-a")
    _, weak_pub = user_key(tmp, "weak", opts=("rsa_keygen_bits:1024",))
    _, ec_pub = user_key(tmp, "ec", "EC", ("ec_paramgen_curve:P-256",))

    wrapped, out = content_new(con, a_pub)
    check(wrapped is None and "error: no CKEK in the token" in out,
          "content-new without a CKEK: %r" % out, con)
    make_ckek(con)
    for name, pem in (("RSA-1024", weak_pub), ("EC P-256", ec_pub)):
        wrapped, out = content_new(con, pem)
        check(wrapped is None and "error: not an RSA public key of 2048 to 4096 bits" in out,
              "a %s user key must be refused: %r" % (name, out), con)
    wrapped, _ = content_new(con, a_pub)
    check(wrapped, "content-new with a good key after refusals", con)
    for_ckek = wrapped[0]

    tampered = bytearray(for_ckek)
    tampered[100] ^= 0x01
    rewrapped, out = content_rewrap(con, armor(bytes(tampered)), a_pub)
    check(rewrapped is None and "error: the wrapped key does not open with this cluster's CKEK"
          in out, "a tampered blob must be refused: %r" % out, con)
    rewrapped, out = content_rewrap(con, armor(for_ckek[:-1]), a_pub)
    check(rewrapped is None and "does not open with this cluster's CKEK" in out,
          "a truncated blob must be refused: %r" % out, con)
    # Wrapped by someone else to the wrong key entirely (user A's, not the CKEK).
    rewrapped, out = content_rewrap(con, armor(wrapped[1]), a_pub)
    check(rewrapped is None and "does not open with this cluster's CKEK" in out,
          "a blob for another key must be refused: %r" % out, con)
    rewrapped, out = content_rewrap(con, armor(for_ckek), ec_pub)
    check(rewrapped is None and "not an RSA public key" in out,
          "rewrap to an EC key must be refused: %r" % out, con)
    rewrapped, out = content_rewrap(con, "-----BEGIN SIGNET WRAPPED KEY-----\n!!!!\n"
                                    "-----END SIGNET WRAPPED KEY-----\n", a_pub)
    check(rewrapped is None and out.startswith("error: "), "bad base64: %r" % out, con)
    # After all that, the good blob still opens, and nothing was left behind.
    rewrapped, out = content_rewrap(con, armor(for_ckek), a_pub)
    check(rewrapped and oaep_decrypt(a_key, rewrapped, tmp) ==
          oaep_decrypt(a_key, wrapped[1], tmp), "the good blob after refusals: %r" % out, con)
    check(session_objects(con)[0] == 0, "a refused call left a content key behind", con)
    tok.close()


def test_ckek_attributes_and_token_objects(tmp):
    tok, con = board(tmp)
    _, a_pub = user_key(tmp, "user-a")
    make_ckek(con)
    rc, before = tok.pkcs11_tool("--list-objects")
    check(rc == 0, "pkcs11-tool --list-objects failed:\n" + before, con)
    for i in range(3):
        wrapped, out = content_new(con, a_pub)
        check(wrapped, "content-new %d: %r" % (i, out), con)
        check(content_rewrap(con, armor(wrapped[0]), a_pub)[0], "rewrap %d" % i, con)
    rc, objs = tok.pkcs11_tool("--list-objects")
    check(rc == 0, "pkcs11-tool --list-objects failed:\n" + objs, con)
    check(objs == before, "the run changed the token's objects:\nbefore:\n%s\nafter:\n%s"
          % (before, objs), con)
    check("Secret Key Object" not in objs, "a secret key was left in the token:\n" + objs, con)
    keys = objects(objs)
    check(sorted(k[0] for k in keys if k[0] != "Certificate Object" and
                 not k[0].startswith("Data object")) ==
          ["Private Key Object"] * 3 + ["Public Key Object"] * 3,
          "expected the TLS, CKEK and audit key pairs only (no user or content keys):\n" + objs,
          con)
    # The audit key (docs/audit.md): P-256, sign only, never extractable.
    audit_priv = next(k[1] for k in keys if k[0] == "Private Key Object" and
                      "ID:         7369676e65742d6175646974" in k[1])
    check("EC" in audit_priv.split("\n")[0] and
          re.search(r"Usage:\s*(.*)", audit_priv).group(1).strip() == "sign" and
          "never extractable" in audit_priv and ", extractable" not in audit_priv,
          "the audit key is not sign-only and unextractable:\n" + audit_priv, con)
    ckek = [k for k in keys if "ID:         " + CKEK_ID_HEX in k[1]]
    check(len(ckek) == 2, "expected one CKEK pair:\n" + objs, con)
    priv = next(k[1] for k in ckek if k[0] == "Private Key Object")
    pub = next(k[1] for k in ckek if k[0] == "Public Key Object")
    check("Signet content-key encryption key" in priv and "RSA" in priv,
          "the CKEK private key is not named as the header says:\n" + priv, con)
    usage = re.search(r"Usage:\s*(.*)", priv).group(1).strip()
    check(usage == "unwrap", "the CKEK private key may do more than unwrap: %r" % usage, con)
    # pkcs11-tool lists CKA_SENSITIVE as "sensitive", CKA_EXTRACTABLE as "extractable" and
    # CKA_NEVER_EXTRACTABLE as "never extractable".
    access = [a.strip() for a in re.search(r"Access:\s*(.*)", priv).group(1).split(",")]
    check("sensitive" in access and "extractable" not in access and
          "never extractable" in access,
          "the CKEK private key must be sensitive and not extractable: %r" % access, con)
    # The firmware reads the CKEK's public key (token_public_spki) as the token holds it, and
    # finds the key (token_find_key).
    der = os.path.join(tmp, "ckek-pub.der")
    rc, _ = tok.pkcs11_tool("--read-object", "--type", "pubkey", "--id", CKEK_ID_HEX, "-o", der,
                            login=False)
    check(rc == 0, "pkcs11-tool could not read the CKEK public key", con)
    rc, spki, err = openssl("pkey", "-pubin", "-inform", "DER", "-in", der, "-outform", "DER")
    check(rc == 0 and spki == CKEK_SPKI[-1], "the firmware's CKEK public key is not the token's",
          con)
    check("CKEK:         rsa2048, unwrap only" in con.command("token info"),
          "token info does not show the CKEK", con)
    # Replacing the CKEK keeps one pair; a blob for the old one no longer opens.
    old = content_new(con, a_pub)[0][0]
    make_ckek(con)
    rc, objs = tok.pkcs11_tool("--list-objects")
    ckek = [k for k in objects(objs) if "ID:         " + CKEK_ID_HEX in k[1]]
    check(len(ckek) == 2 and len(objects(objs)) == len(keys),
          "replacing the CKEK should leave one pair and nothing else:\n" + objs, con)
    rewrapped, out = content_rewrap(con, armor(old), a_pub)
    check(rewrapped is None and "does not open" in out,
          "a blob for the replaced CKEK must not open: %r" % out, con)
    check(session_objects(con)[0] == 0, "content keys left in the session", con)
    tok.close()


def test_link_drop_is_recovered(tmp):
    tok, con = board(tmp)
    a_key, a_pub = user_key(tmp, "user-a")
    make_ckek(con)
    wrapped, out = content_new(con, a_pub)
    check(wrapped, "content-new before the drop: %r" % out, con)
    k = oaep_decrypt(a_key, wrapped[1], tmp)
    # The server goes away and comes back: sessions, login and the session objects (cached user
    # key included) die with the connection; the next call must rebuild all of it by itself.
    tok.stop()
    tok.start()
    rewrapped, out = content_rewrap(con, armor(wrapped[0]), a_pub)
    check(rewrapped and oaep_decrypt(a_key, rewrapped, tmp) == k,
          "rewrap after the server restart did not recover: %r" % out, con)
    again, out = content_new(con, a_pub)
    check(again and oaep_decrypt(a_key, again[1], tmp), "content-new after the restart: %r" % out,
          con)
    # While the server is down the call fails cleanly, then works again.
    tok.stop()
    wrapped2, out = content_new(con, a_pub)
    check(wrapped2 is None and "error: token link down" in out,
          "content-new with the server down: %r" % out, con)
    tok.start()
    wrapped2, out = content_new(con, a_pub)
    check(wrapped2, "content-new after the server came back: %r" % out, con)
    out = con.command("status")
    check("re-logged in after link loss" in out, "status should show the re-login", con)
    check(session_objects(con) == (0, 1, 1), "after recovery: %r" % (session_objects(con),), con)
    tok.close()


def link_calls(con):
    out = con.command("status")
    m = re.search(r"token link: \w+, \d+ connects, (\d+) calls", out)
    check(m, "status shows no call count: %r" % out, con)
    return int(m.group(1))


def test_returning_user_costs_no_lookups_and_cache_evicts(tmp):
    tok, con = board(tmp)
    users = [user_key(tmp, "user-%d" % i) for i in range(9)]
    make_ckek(con)
    first = content_new(con, users[0][1])[0]
    check(first, "content-new for user 0", con)
    base = link_calls(con)
    idle = link_calls(con) - base  # what status itself costs
    # Warm: C_GenerateKey, then C_WrapKey x2 + C_DestroyObject in one round trip.
    start = link_calls(con)
    check(content_new(con, users[0][1])[0], "content-new for a returning user", con)
    calls = link_calls(con) - start - idle
    check(calls == 4, "a returning user's content key took %d PKCS#11 calls, not 4" % calls, con)
    # Licensing: C_UnwrapKey, then C_WrapKey + C_DestroyObject in one round trip.
    start = link_calls(con)
    check(content_rewrap(con, armor(first[0]), users[0][1])[0], "rewrap for user 0", con)
    calls = link_calls(con) - start - idle
    check(calls == 3, "a returning user's licence took %d PKCS#11 calls, not 3" % calls, con)
    # A new user adds one import (C_CreateObject).
    start = link_calls(con)
    check(content_rewrap(con, armor(first[0]), users[1][1])[0], "rewrap for user 1", con)
    calls = link_calls(con) - start - idle
    check(calls == 4, "a new user's licence took %d PKCS#11 calls, not 4" % calls, con)
    # Nine users through an eight-entry cache: the least recently used goes, and its object too.
    for key, pub in users[2:]:
        wrapped = content_new(con, pub)[0]
        check(wrapped and oaep_decrypt(key, wrapped[1], tmp), "content-new for " + key, con)
    check(session_objects(con) == (0, 8, 8),
          "nine users should leave the eight cached keys: %r" % (session_objects(con),), con)
    # User 0 was the least recently used: it comes back with an import (and an eviction).
    start = link_calls(con)
    wrapped = content_new(con, users[0][1])[0]
    calls = link_calls(con) - start - idle
    check(wrapped and oaep_decrypt(users[0][0], wrapped[1], tmp),
          "content-new for user 0 after eviction", con)
    check(calls == 6, "an evicted user took %d calls, not 4 + import + destroy" % calls, con)
    check(session_objects(con) == (0, 8, 8), "after eviction: %r" % (session_objects(con),), con)
    tok.close()


def test_link_drop_in_the_middle_of_a_call_is_retried(tmp):
    tok, con = board(tmp)
    a_key, a_pub = user_key(tmp, "user-a")
    make_ckek(con)
    first = content_new(con, a_pub)[0]
    k = oaep_decrypt(a_key, first[1], tmp)
    con.command("test pause-steps 1000")
    # The server dies after the content key exists in the token and before it is wrapped: the
    # key dies with the session, and the call starts again on a fresh one by itself.
    con.send("test content-new\n")
    con.expect("Paste the .*Ctrl-C cancels.\n")
    con.send(a_pub)
    con.expect("test: content: key generated")
    tok.stop()
    tok.start()
    start = con.pos
    end = con.expect(PROMPT, 60).start()
    out = con.output_since(start)[:end - start]
    m = re.search(r"^for-user: (\S+)$", out, re.M)
    check(m and len(oaep_decrypt(a_key, base64.b64decode(m.group(1)), tmp) or b"") == 32,
          "content-new across a link drop did not complete: %r" % out, con)
    # Likewise between unwrapping and wrapping again.
    con.send("test content-rewrap\n")
    con.expect("Paste the content key wrapped to the CKEK .*Ctrl-C cancels.\n")
    con.send(armor(first[0]))
    con.expect("Paste the user's public key .*Ctrl-C cancels.\n")
    con.send(a_pub)
    con.expect("test: content: key unwrapped")
    tok.stop()
    tok.start()
    start = con.pos
    end = con.expect(PROMPT, 60).start()
    out = con.output_since(start)[:end - start]
    m = re.search(r"^rewrapped: (\S+)$", out, re.M)
    check(m and oaep_decrypt(a_key, base64.b64decode(m.group(1)), tmp) == k,
          "rewrap across a link drop did not complete: %r" % out, con)
    con.command("test pause-steps 0")
    check(con.output_since(0).count("test: content: key generated") == 2,
          "content-new should have generated a key again on the new connection", con)
    out = con.command("status")
    check("token link: up, 3 connects" in out, "two drops mean three connections: %r" % out, con)
    check(session_objects(con) == (0, 1, 1), "after the drops: %r" % (session_objects(con),), con)
    tok.close()
