#!/usr/bin/env python3
"""tests/run.py — run every test level and end with the line "N passed, N failed".

  unit         build/unit/test_* (C, host, sanitizers), one result per TEST
  integration  tests/integration/test_*.py — the host board through its console
  system       tests/system/test_*.py — the vexpress-a9 image under QEMU over its serial port
  fuzz         build/fuzz/fuzz_* — each libFuzzer target for FUZZ_SMOKE_SECONDS (default 15)

Usage: tests/run.py [SUBSTRING ...]   run only tests whose name contains one of the substrings.
Each Python test gets a fresh temporary directory and a hard time limit; a failure prints the
console transcript the test collected.
"""
import glob
import importlib.util
import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import harness  # noqa: E402

TEST_LIMIT = 600  # seconds; any single test taking longer is a hang

passed = failed = 0
failures = []


def selected(name):
    return len(sys.argv) < 2 or any(s in name for s in sys.argv[1:])


def report(name, ok, secs, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s (%.1fs)" % (name, secs), flush=True)
    else:
        failed += 1
        failures.append(name)
        print("FAIL - %s (%.1fs)\n%s" % (name, secs, detail.rstrip()), flush=True)


def run_unit():
    for path in sorted(glob.glob(os.path.join(ROOT, "build", "unit", "test_*"))):
        suite = "unit/" + os.path.basename(path)
        if not selected(suite):
            continue
        t0 = time.monotonic()
        try:
            res = subprocess.run([path], capture_output=True, text=True, timeout=TEST_LIMIT)
            out, code = res.stdout + res.stderr, res.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            code = -1
        secs = time.monotonic() - t0
        seen = 0
        for line in out.splitlines():
            if line.startswith("ok - "):
                seen += 1
                report("%s::%s" % (suite, line[5:]), True, 0)
            elif line.startswith("not ok - "):
                seen += 1
                report("%s::%s" % (suite, line[9:].split(":")[0]), False, 0, line)
        # A crash or sanitizer report after the last test line is a failure of its own.
        if code != 0 and (seen == 0 or "ERROR: " in out or "runtime error" in out):
            report(suite + " (process)", False, secs, "exit code %s\n%s" % (code, out[-4000:]))


def run_fuzz():
    """A short, bounded run of each fuzz target; `make fuzz` runs them longer."""
    secs = int(os.environ.get("FUZZ_SMOKE_SECONDS", "15"))
    for path in sorted(glob.glob(os.path.join(ROOT, "build", "fuzz", "fuzz_*"))):
        name = "fuzz/" + os.path.basename(path)
        if not selected(name):
            continue
        corpus = os.path.join(ROOT, "tests", "fuzz", "corpus", os.path.basename(path)[5:])
        work = tempfile.mkdtemp(prefix="signet-fuzz-")
        t0 = time.monotonic()
        try:
            res = subprocess.run([path, "-max_total_time=%d" % secs, work] +
                                 ([corpus] if os.path.isdir(corpus) else []),
                                 capture_output=True, text=True, timeout=secs + 120)
            runs = [line for line in res.stderr.splitlines() if line.startswith("Done ")]
            report("%s (%s)" % (name, runs[-1] if runs else "no runs"), res.returncode == 0,
                   time.monotonic() - t0, res.stderr[-4000:])
        except subprocess.TimeoutExpired:
            report(name, False, time.monotonic() - t0, "fuzzer did not stop")
        finally:
            shutil.rmtree(work, ignore_errors=True)


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def run_python(level):
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", level, "test_*.py"))):
        modname = "%s_%s" % (level, os.path.basename(path)[:-3])
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            report("%s/%s (import)" % (level, os.path.basename(path)), False, 0,
                   traceback.format_exc())
            continue
        tests = [(n, f) for n, f in inspect.getmembers(mod, inspect.isfunction)
                 if n.startswith("test_") and f.__module__ == modname]
        tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        for name, fn in tests:
            full = "%s/%s::%s" % (level, os.path.basename(path)[:-3], name)
            if not selected(full):
                continue
            tmp = tempfile.mkdtemp(prefix="signet-test-")
            t0 = time.monotonic()
            signal.signal(signal.SIGALRM, on_alarm)
            signal.alarm(TEST_LIMIT)
            try:
                fn(tmp)
                report(full, True, time.monotonic() - t0)
            except harness.TestFailure as e:
                report(full, False, time.monotonic() - t0, str(e))
            except Timeout:
                report(full, False, time.monotonic() - t0, "test exceeded %ss" % TEST_LIMIT)
            except Exception:
                report(full, False, time.monotonic() - t0, traceback.format_exc())
            finally:
                signal.alarm(0)
                for c in harness.LIVE:  # boards, tokens, authorities: whatever the test started
                    try:
                        c.close()
                    except Exception:
                        traceback.print_exc()
                harness.LIVE.clear()
                shutil.rmtree(tmp, ignore_errors=True)


def main():
    t0 = time.monotonic()
    run_unit()
    run_python("integration")
    run_python("system")
    run_fuzz()
    if failures:
        print("\nfailed:\n  " + "\n  ".join(failures))
    print("\ntotal time %.0fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
