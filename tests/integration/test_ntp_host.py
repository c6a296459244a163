"""Network time (R23) on the host board against chronyd: an appliance whose clock is a year off
steps only once the operator confirms, then issues certificates dated by the true time; an
appliance a few hours off is stepped at once; a server that jumps by 2 days is refused until
confirmed, and one liar among three is outvoted. Every step and refusal is audited."""
import datetime
import re
import subprocess
import time

from enrollment import enrolled_root
from harness import PROMPT, check
from rights import Org, split_bundle
from timeserver import Chrony


def clock(con):
    """The appliance's clock, as `time show` prints it."""
    text = con.command("time show")
    when = datetime.datetime.strptime(text.split("\n")[0], "%Y-%m-%dT%H:%M:%SZ")
    return when.replace(tzinfo=datetime.timezone.utc).timestamp(), text


def off_by(con):
    return clock(con)[0] - time.time()


def wait_ntp(con, pattern, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        text = con.command("time show")
        if re.search(pattern, text):
            return text
        check(time.monotonic() < deadline, "ntp never reached %r:\n%s" % (pattern, text), con)
        time.sleep(0.3)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_clock_a_year_off_is_stepped_once_confirmed_and_certificates_are_dated_right(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    good = Chrony(tmp)
    check(abs(good.offset()) < 1, "the test's chronyd is off by %.1f s" % good.offset())
    org = Org(tmp, con)

    # A dead RTC battery: the clock a year behind.
    con.command("time set " + iso(time.time() - 365 * 86400))
    out = con.command("time ntp " + good.server)
    check("time ntp: asking " + good.server in out, "time ntp: %r" % out, con)
    text = wait_ntp(con, r"off by \+3153\d{4} s \(36[45] days\): not stepped until `time ntp "
                         r"confirm`")
    check(abs(off_by(con) + 365 * 86400) < 10, "the clock moved without confirmation:\n" + text,
          con)
    check("ntp:       " + good.server in con.command("status"), "status lacks the source", con)
    out = con.command("time ntp confirm")
    check("time ntp: stepped as confirmed" in out, "confirm: %r" % out, con)
    check(abs(off_by(con)) < 3, "after the confirmed step the clock is %.1f s off" % off_by(con),
          con)
    audit = con.command("audit show 6")
    check(re.search(r"time ntp: a step of \+3153\d{4} s \(36[45] days\) refused until the "
                    r"operator confirms it", audit) and
          re.search(r"time ntp: stepped by \+3153\d{4} s \(36[45] days\) \(was \S+, now \S+; "
                    r"confirmed by the operator", audit), "audit:\n" + audit, con)
    # Nothing left to confirm.
    check(con.command("time ntp confirm").startswith("error: no step is waiting"), "confirm", con)

    # Certificates issued now carry the true time: notBefore 5 minutes before now.
    alice = org.client("alice@contoso.example")
    alice.keygen()
    rc, out = alice.certify(nb.https_port)
    check(rc == 0, "certify: " + out, con)
    rac = split_bundle(alice.rac, tmp, "rac")[0]
    nb_text = subprocess.run(["openssl", "x509", "-noout", "-startdate", "-in", rac],
                             capture_output=True, text=True, check=True).stdout.strip()
    not_before = datetime.datetime.strptime(nb_text.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    age = time.time() - not_before.replace(tzinfo=datetime.timezone.utc).timestamp()
    check(280 < age < 330, "the RAC's notBefore is %d s before now (want 300)" % age, con)

    # A few hours off is within a day: stepped at once, audited.
    con.command("time set " + iso(time.time() - 3 * 3600))
    con.command("time ntp " + good.server)
    wait_ntp(con, r"in sync \(1 of 1 servers agree\)")
    check(abs(off_by(con)) < 3, "3 h off: now %.1f s off" % off_by(con), con)
    check(re.search(r"time ntp: stepped by \+10[78]\d\d s \(was \S+, now \S+; agreed by the "
                    r"servers", con.command("audit show 3")), "the step is not audited", con)
    # Off: nothing asks, the clock is the operator's.
    check(con.command("time ntp off") == "time ntp: off\n", "off", con)
    check("ntp: off" in con.command("time show"), "time show after off", con)
    auth.close()


def test_a_server_that_jumps_two_days_is_refused_until_confirmed(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    good, good2 = Chrony(tmp), Chrony(tmp)
    out = con.command("time ntp " + good.server)
    check("asking" in out, out, con)
    wait_ntp(con, r"in sync")
    # The same server, restarted two days ahead.
    port = good.port
    good.close()
    liar = Chrony(tmp, ahead="+2d", port=port)
    check(abs(liar.offset() - 2 * 86400) < 5, "faketime: %r" % liar.offset())
    con.command("time ntp " + liar.server)
    wait_ntp(con, r"off by \+172800 s \(2 days\): not stepped until `time ntp confirm`")
    check(abs(off_by(con)) < 3, "the liar moved the clock: %.1f s" % off_by(con), con)
    check("a step of +172800 s (2 days) refused until the operator confirms it" in
          con.command("audit show 3"), "the refusal is not audited", con)

    # One liar among three: outvoted, the clock stays, nothing to confirm.
    good3 = Chrony(tmp)
    con.command("time ntp %s,%s,%s" % (liar.server, good2.server, good3.server))
    wait_ntp(con, r"in sync \(2 of 3 servers agree\)")
    check(abs(off_by(con)) < 3, "outvoted liar moved the clock: %.1f s" % off_by(con), con)
    check(con.command("time ntp confirm").startswith("error: "), "nothing should wait", con)
    # Two configured, the two disagree: nothing moves.
    con.command("time ntp %s,%s" % (liar.server, good2.server))
    wait_ntp(con, r"not used: 2 of 2 servers answered and only 1 agree")
    check(abs(off_by(con)) < 3, "a disagreement moved the clock", con)

    # The operator decides the liar is right after all: confirmed, stepped, audited.
    con.command("time ntp " + liar.server)
    wait_ntp(con, r"not stepped until `time ntp confirm`")
    check("stepped as confirmed" in con.command("time ntp confirm"), "confirm", con)
    check(abs(off_by(con) - 2 * 86400) < 3, "confirmed: %.1f s" % off_by(con), con)
    check("confirmed by the operator" in con.command("audit show 2"), "audit", con)
    # Refused input changes nothing.
    for bad in ("", "host_name.test", "10.0.2.2:0", "a,b,c,d", "10.0.2.2,", "10.0.2.2:99999"):
        out = con.command("time ntp " + bad) if bad else con.command("time ntp")
        check(out.startswith("error: "), "time ntp %r: %r" % (bad, out), con)
    check(liar.server in con.command("time show"), "a refused setting changed it", con)
    # The setting is kept across a reboot.
    con.command("time ntp " + good2.server)
    con.send("reboot\n")
    con.expect("boot #2", 30)
    con.expect(PROMPT, 30)
    wait_ntp(con, re.escape(good2.server) + r"; the servers say the clock is off by -17\d{4} s")
    auth.close()
