"""Pasting on the host board's console: what arrives in the burst of a paste never runs as a
command, however the paste ends (refused, cancelled, finished); a command typed after a pause does.

Each paste is one write() on the console pipe, so it reaches the board as one burst, as a
terminal's paste does; the prompt comes back once the input has been quiet.
"""
import os
import re
import subprocess
import time

from enrollment import prepare_appliance
from harness import PROMPT, check, host_board
from hsm import Token

FP = ":".join(["AB"] * 32)
INJECTED = "acl grant %s mallory\nconfig name pwned\n" % FP


def board(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, 20)
    prepare_appliance(con, alg="p256")
    return tok, con


def self_signed(tmp, name="x"):
    key, crt = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "30",
                    "-subj", "/CN=%s" % name], check=True, capture_output=True, timeout=30)
    with open(crt) as f:
        return f.read()


def start_paste(con, command):
    con.send(command + "\n")
    con.expect("Paste the .*Ctrl-C cancels.\n")
    return con.pos


def until_prompt(con, start, timeout=30):
    end = con.expect(PROMPT, timeout).start()
    return con.output_since(start)[:end - start]


def nothing_injected_ran(con, out):
    check("unknown command" not in out, "pasted lines ran as commands: %r" % out, con)
    check("granted" not in out and "server name: pwned" not in out,
          "an injected command ran: %r" % out, con)
    acl = con.command("acl list")
    check("mallory" not in acl, "mallory was granted: %r" % acl, con)
    cfg = con.command("config show")
    check("pwned" not in cfg and "root1" in cfg, "the server was renamed: %r" % cfg, con)


def test_commands_after_a_pem_block_do_not_run(tmp):
    tok, con = board(tmp)
    start = start_paste(con, "trust import")
    con.send(self_signed(tmp) + INJECTED)
    out = until_prompt(con, start)
    check("error: text follows the END line (paste one block alone); nothing changed" in out,
          "trailing text not refused: %r" % out, con)
    check("discarded 2 pasted lines; none of them ran" in out, "no discard count: %r" % out, con)
    check("authority root trusted" not in out, "the block was taken: %r" % out, con)
    nothing_injected_ran(con, out)
    check("trust import: refused: text follows the END line" in con.command("audit show"),
          "refusal not audited", con)
    tok.close()


def test_two_block_bundle_is_refused_whole(tmp):
    tok, con = board(tmp)
    start = start_paste(con, "trust import")
    con.send(self_signed(tmp, "a") + self_signed(tmp, "b"))
    out = until_prompt(con, start)
    check("error: text follows the END line" in out, "bundle not refused: %r" % out, con)
    m = re.search(r"discarded (\d+) pasted lines; none of them ran", out)
    check(m and int(m.group(1)) >= 3, "second block not discarded whole: %r" % out, con)
    check("trusted" not in out and "unknown command" not in out, "bundle: %r" % out, con)
    tok.close()


def test_end_line_of_another_label_ends_the_paste_with_an_error(tmp):
    tok, con = board(tmp)
    start = start_paste(con, "trust import")
    pem = self_signed(tmp).replace("-----END CERTIFICATE-----", "-----END PUBLIC KEY-----")
    con.send(pem + INJECTED)
    out = until_prompt(con, start)
    check("error: END line of another label (expected -----END CERTIFICATE-----); nothing "
          "changed" in out, "wrong END label: %r" % out, con)
    check("discarded 3 pasted lines; none of them ran" in out, "discard count: %r" % out, con)
    nothing_injected_ran(con, out)
    tok.close()


def test_xml_into_renew_import_runs_nothing(tmp):
    tok, con = board(tmp)
    xml = ("<?xml version=\"1.0\"?>\n<Response><Chain>" + "A" * 400 + "</Chain>\n<Chain>" +
           "B" * 300 + "</Chain>\n</Response>\n" + INJECTED)
    start = start_paste(con, "renew import")
    con.send(xml)
    out = until_prompt(con, start)
    check("error: line too long (max 256 characters)" in out, "long line: %r" % out, con)
    check("paste cancelled; nothing changed" in out, "cancel: %r" % out, con)
    check(re.search(r"discarded \d+ pasted lines; none of them ran", out), "count: %r" % out, con)
    nothing_injected_ran(con, out)
    check("renew import: cancelled: pasted line too long" in con.command("audit show"),
          "not audited", con)
    tok.close()


def test_ctrl_c_mid_paste_discards_the_rest_of_the_burst(tmp):
    tok, con = board(tmp)
    start = start_paste(con, "trust import")
    con.send("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n\x03" + INJECTED)
    out = until_prompt(con, start)
    check("cancelled; nothing changed" in out, "Ctrl-C: %r" % out, con)
    check("discarded 2 pasted lines; none of them ran" in out, "discard count: %r" % out, con)
    nothing_injected_ran(con, out)
    check("trust import: cancelled: Ctrl-C" in con.command("audit show"), "not audited", con)
    tok.close()


def test_overlong_command_line_discards_its_burst_and_typing_after_a_pause_runs(tmp):
    tok, con = board(tmp)
    con.send("y" * 300 + "\n" + INJECTED)
    con.expect(r"error: line too long")
    start = con.pos
    out = until_prompt(con, start)
    check("discarded 2 pasted lines; none of them ran" in out, "discard count: %r" % out, con)
    nothing_injected_ran(con, out)
    # After the prompt (the input was quiet), typing runs again, even right after a refusal.
    start = start_paste(con, "trust import")
    con.send("\x03")
    until_prompt(con, start)
    time.sleep(0.5)
    check(con.command("config name typed") == "server name: typed\n", "typed command", con)
    tok.close()


def test_cut_escape_sequence_leaves_enter_and_the_next_command_alone(tmp):
    con = host_board(tmp)
    con.expect(PROMPT, 20)
    start = con.pos
    con.send("\x1b[\rstatus\r")  # the sequence cut by Enter: an empty line, then status
    con.expect(r"board:     host")
    out = until_prompt(con, start)
    check("unknown command" not in out, "ESC [: %r" % out, con)
    con.send("stat\x1b[\x03status\r")  # Ctrl-C inside the sequence cancels the line
    con.expect(r"\^C\n")
    con.expect(r"board:     host")
    con.expect(PROMPT)


def test_help_command(tmp):
    con = host_board(tmp)
    con.expect(PROMPT, 20)
    out = con.command("help acl")
    names = re.findall(r"^  (\S+ \S+)", out, re.M)
    check(names == ["acl list", "acl grant", "acl revoke"], "help acl: %r" % out, con)
    out = con.command("help acl grant")
    check(out.startswith("  acl grant FINGERPRINT NAME") and out.count("\n") == 1,
          "help acl grant: %r" % out, con)
    out = con.command("help config")
    check("config name" in out and "status" not in out, "help config: %r" % out, con)
    out = con.command("help nosuch")
    check(out.strip() == "error: no command starts with 'nosuch' (try help)", "nosuch: %r" % out,
          con)
    out = con.command("help acl nosuch")
    check(out.strip() == "error: no command starts with 'acl nosuch' (try help)", "%r" % out, con)
    out = con.command("help")
    check(out.startswith("Commands:\n") and "acl grant" in out and "status" in out,
          "plain help: %r" % out, con)
