#!/usr/bin/env python3
"""Checklist coverage: which tests cite each of the 80 requirements of docs/smart-spec.md
(section 8), and whether they passed in the last run.

A test cites an item with a comment or string `spec #N` (lists like `spec #3, #4` and
ranges like `spec #60-#62` count) inside its body. An item no test can cover carries a
one-line reason in docs/spec-not-applicable.md (`#N: reason`).

Pass status comes from the logs of the last `make test` (test-output/*.log); the native
suite is run here if its log is missing. Exit status 1 when an item is neither covered
nor justified, or a citing test failed.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "docs", "smart-spec.md")
NOT_APPLICABLE = os.path.join(ROOT, "docs", "spec-not-applicable.md")
OUT = os.path.join(ROOT, "test-output")

CITATION = re.compile(r"spec\s+((?:#\d+(?:\s*[-\u2013]\s*#?\d+)?(?:\s*,\s*|\s+and\s+|\s+)?)+)")
NUMBER_OR_RANGE = re.compile(r"#(\d+)(?:\s*[-\u2013]\s*#?(\d+))?")
RUST_TEST_ATTR = re.compile(r"#\[(test|tokio::test)(\]|\()")
RUST_FN = re.compile(r"\bfn\s+(\w+)\s*\(")
JS_TEST = re.compile(r"""\btest\(\s*(['"`])(.+?)\1""")


def checklist():
    items = {}
    in_section = False
    for line in open(SPEC, encoding="utf-8"):
        if line.startswith("## 8."):
            in_section = True
        elif line.startswith("## ") and in_section:
            break
        m = re.match(r"\|\s*(\d+)\s*\|\s*(.+?)\s*\|", line)
        if in_section and m:
            items[int(m.group(1))] = m.group(2)
    return items


def cited_numbers(text):
    numbers = set()
    for group in CITATION.findall(text):
        for start, end in NUMBER_OR_RANGE.findall(group):
            lo = int(start)
            hi = int(end) if end else lo
            if hi >= lo and hi - lo < 20:
                numbers.update(range(lo, hi + 1))
    return numbers


def rust_tests(path, suite):
    """(suite, test name) -> cited items, for the test functions of one Rust file.

    A citation belongs to the test function it stands in: the last `fn` seen, if that
    was a test (`#[test]`, `#[tokio::test]`, or inside `proptest!`); a helper
    `fn` ends the attribution."""
    found = {}
    current = None
    pending_attr = False
    in_proptest = False
    for line in open(path, encoding="utf-8"):
        if RUST_TEST_ATTR.search(line):
            pending_attr = True
        if "proptest!" in line:
            in_proptest = True
        m = RUST_FN.search(line)
        if m:
            current = m.group(1) if (pending_attr or in_proptest) else None
            pending_attr = False
            if current:
                found.setdefault((suite, current), set())
        if current is not None:
            found[(suite, current)].update(cited_numbers(line))
    return found


def js_tests(path, suite):
    found = {}
    current = None
    for line in open(path, encoding="utf-8"):
        m = JS_TEST.search(line)
        if m:
            current = m.group(2)
            found.setdefault((suite, current), set())
        if current is not None:
            found[(suite, current)].update(cited_numbers(line))
    return found


def collect():
    tests = {}
    for base, suite in (("src", "native"), ("tests", None), ("sandbox/tests", "native")):
        for dirpath, dirnames, files in os.walk(os.path.join(ROOT, base)):
            dirnames[:] = [d for d in dirnames if d != "node_modules"]
            for name in files:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT).split(os.sep)
                if name.endswith(".rs"):
                    tests.update(rust_tests(path, suite or "native"))
                elif name.endswith(".test.mjs") and rel[:2] in (["tests", "e2e"], ["tests", "browser"]):
                    tests.update(js_tests(path, rel[1]))
    return tests


def read(path):
    try:
        return open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return None


def results():
    """(suite, name) -> True/False from the last logs."""
    native = read(os.path.join(OUT, "native.log"))
    if native is None:
        run = subprocess.run(["cargo", "test", "--lib"], cwd=ROOT, capture_output=True, text=True)
        native = run.stdout + run.stderr
    status = {}
    for name, verdict in re.findall(r"^test (\S+) \.\.\. (ok|FAILED|FAIL)", native or "", re.M):
        short = name.rsplit("::", 1)[-1]
        ok = verdict == "ok"
        status[("native", short)] = status.get(("native", short), True) and ok
    # node's test runner, TAP reporter (`ok 3 - name`, `not ok 4 - name # ...`).
    for suite in ("browser", "e2e"):
        log = read(os.path.join(OUT, f"{suite}.log")) or ""
        for verdict, name in re.findall(r"^\s*(ok|not ok) \d+ - (.+?)(?: # .*)?$", log, re.M):
            status[(suite, name.strip())] = verdict == "ok"
    return status


def main():
    items = checklist()
    if len(items) != 80:
        print(f"expected 80 checklist items, found {len(items)}", file=sys.stderr)
        return 2
    justified = {}
    if os.path.exists(NOT_APPLICABLE):
        for line in open(NOT_APPLICABLE, encoding="utf-8"):
            m = re.match(r"\s*[-*]?\s*#(\d+):\s*(.+)", line)
            if m:
                justified[int(m.group(1))] = m.group(2).strip()
    tests = collect()
    status = results()
    covered = failing = missing = 0
    for n in sorted(items):
        citing = sorted(t for t, cited in tests.items() if n in cited)
        verdicts = [status.get(t) for t in citing]
        if any(v is False for v in verdicts):
            mark = "FAIL"
            failing += 1
        elif any(v is True for v in verdicts):
            mark = "pass"
            covered += 1
        elif citing:
            mark = "not run"
            covered += 1
        elif n in justified:
            mark = "n/a"
        else:
            mark = "MISSING"
            missing += 1
        names = ", ".join(f"{s}:{t}" for s, t in citing[:4])
        more = f" (+{len(citing) - 4})" if len(citing) > 4 else ""
        detail = names + more if citing else justified.get(n, "")
        print(f"#{n:<3} {mark:<8} {items[n][:60]:<60} {detail}")
    print(f"covered {covered}/80, justified {len([n for n in justified if n in items and not any(n in c for c in tests.values())])}, missing {missing}, failing {failing}")
    return 1 if missing or failing else 0


if __name__ == "__main__":
    sys.exit(main())
