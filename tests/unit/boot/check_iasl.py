#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Disassembles every table dump_acpi writes with iasl -d and recompiles the
DSDT; any iasl error (or a missing table) fails the test."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

REQUIRED = ("DSDT", "FACP", "APIC", "XSDT")


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    out = p.stdout + p.stderr
    errors = re.search(r"(\d+) Errors?", out)
    if p.returncode != 0 or (errors and int(errors.group(1)) > 0) or "Error " in out:
        print(out)
        raise SystemExit(f"FAIL: {' '.join(cmd)} (exit {p.returncode})")
    return out


def check(dump_acpi, iasl, cpus, devs):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([dump_acpi, d, str(cpus), str(devs)], check=True,
                       capture_output=True)
        for name in REQUIRED:
            dat = os.path.join(d, name + ".dat")
            if not os.path.exists(dat):
                raise SystemExit(f"FAIL: dump_acpi wrote no {name}")
            run([iasl, "-d", dat], d)
            if not os.path.exists(os.path.join(d, name + ".dsl")):
                raise SystemExit(f"FAIL: iasl -d made no {name}.dsl")
        dsl = open(os.path.join(d, "DSDT.dsl")).read()
        if dsl.count('"LNRO0005"') != devs:
            raise SystemExit(f"FAIL: DSDT.dsl has {dsl.count('LNRO0005')} devices, want {devs}")
        # The disassembly must compile back to AML without errors.
        run([iasl, "-p", os.path.join(d, "DSDT-recompiled"), os.path.join(d, "DSDT.dsl")], d)
        print(f"ok: {cpus} vCPUs, {devs} devices: {', '.join(REQUIRED)} disassemble cleanly")


def main():
    dump_acpi = sys.argv[1]
    iasl = shutil.which("iasl")
    if not iasl:
        print("iasl not installed: skipped")
        return 77
    for cpus, devs in ((1, 0), (4, 3), (254, 16)):
        check(dump_acpi, iasl, cpus, devs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
