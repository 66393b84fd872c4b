#!/usr/bin/env python3
"""Sums every JUnit XML file in a directory and prints 'N passed, N failed' last."""
import pathlib
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    passed = failed = 0
    failures = []
    for path in sorted(root.glob("*.xml")):
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            failed += 1
            failures.append(f"{path.name}: unreadable report ({e})")
            continue
        for case in tree.iter("testcase"):
            if case.find("skipped") is not None:
                continue
            bad = case.find("failure")
            if bad is None:
                bad = case.find("error")
            if bad is None:
                passed += 1
            else:
                failed += 1
                name = f"{case.get('classname', '')}::{case.get('name', '')}"
                first = (bad.get("message") or bad.text or "").strip().splitlines()
                failures.append(f"{path.stem}: {name}: {first[0] if first else ''}"[:300])
    for f in failures:
        print("FAILED", f)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
