#!/usr/bin/env python3
# SPDX-License-Identifier: MulanPSL-2.0
"""Disassembles every table dump_acpi writes with iasl -d and recompiles the
DSDT; any iasl error (or a missing table) fails the test, and so does a DSDT
without the virtio-mmio devices or the legacy devices (COM1, i8042, RTC) with
their ports and IRQs, or without _S5 and the FADT's sleep registers, or
without the power button and the GED that notifies it."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

REQUIRED = ("DSDT", "FACP", "APIC", "XSDT")
# The legacy devices in the DSDT: _HID, then what _CRS must hold (docs/boot.md).
LEGACY = {
    "PNP0501": [r"IO \(Decode16,\s*0x03F8,\s*0x03F8,\s*0x01,\s*0x08,", r"IRQNoFlags \(\)\s*\{4\}"],
    "PNP0303": [r"IO \(Decode16,\s*0x0060,\s*0x0060,\s*0x01,\s*0x01,",
                r"IO \(Decode16,\s*0x0064,\s*0x0064,\s*0x01,\s*0x01,", r"IRQNoFlags \(\)\s*\{1\}"],
    "PNP0F13": [r"IRQNoFlags \(\)\s*\{12\}"],
    "PNP0B00": [r"IO \(Decode16,\s*0x0070,\s*0x0070,\s*0x01,\s*0x02,", r"IRQNoFlags \(\)\s*\{8\}"],
}


def check_legacy(dsl):
    dsl = re.sub(r"//[^\n]*", "", dsl)
    for hid, resources in LEGACY.items():
        # The device's text: from its _HID to the next Device or the end.
        m = re.search(r'EisaId \("%s"\).*?(?=Device \(|\Z)' % hid, dsl, re.S)
        if not m or dsl.count(f'EisaId ("{hid}")') != 1:
            raise SystemExit(f"FAIL: DSDT.dsl has no single {hid} device")
        for rx in resources:
            if not re.search(rx, m.group(0)):
                raise SystemExit(f"FAIL: {hid}'s _CRS lacks {rx}")


def check_s5(dsl, facp):
    """The power-off: \\_S5 with SLP_TYP 5 and the FADT's sleep registers at 0x600/0x601."""
    if not re.search(r"Name \(_S5, Package \(0x04\)[^{]*\{\s*0x05,\s*Zero,", dsl):
        raise SystemExit("FAIL: DSDT.dsl has no _S5 package with SLP_TYP 5")
    for reg, port in (("Sleep Control Register", "0000000000000600"),
                      ("Sleep Status Register", "0000000000000601")):
        # The structure's own lines: from its header to the blank line after it.
        m = re.search(reg + r" : \[Generic Address Structure\]\n(.*?)\n\n", facp, re.S)
        if not m or not re.search(r"Space ID : 01 \[SystemIO\]", m.group(1)) \
                or not re.search(r"Bit Width : 08", m.group(1)) \
                or not re.search(r"Address : " + port, m.group(1)):
            raise SystemExit(f"FAIL: FACP.dsl has no {reg} in SystemIO at 0x{port[-4:]}")


def check_power_button(dsl):
    """The power button: PWRB (PNP0C0C) and the GED (ACPI0013) whose _EVT
    notifies it, with its interrupt on GSI 23 and its register at port 0x602."""
    dsl = re.sub(r"//[^\n]*", "", dsl)
    if dsl.count('EisaId ("PNP0C0C")') != 1:
        raise SystemExit("FAIL: DSDT.dsl has no single PNP0C0C power button")
    m = re.search(r'"ACPI0013".*?(?=Device \(|\Z)', dsl, re.S)
    if not m or dsl.count('"ACPI0013"') != 1:
        raise SystemExit("FAIL: DSDT.dsl has no single ACPI0013 GED")
    for rx in (r"Interrupt \(ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, \)\s*\{\s*0x00000017,",
               r"OperationRegion \(EREG, SystemIO, 0x0602, One\)",
               r"Field \(EREG, ByteAcc, NoLock, WriteAsZeros\)\s*\{\s*ESEL,\s*8",
               r"Method \(_EVT, 1, Serialized\)",
               r"Local0 = ESEL[^\n]*\n\s*ESEL = Local0\s*If \(\(Local0 & One\)\)\s*\{\s*"
               r"Notify \(\\_SB.PWRB, 0x80\)"):
        if not re.search(rx, m.group(0)):
            raise SystemExit(f"FAIL: the GED lacks {rx}")


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
        check_legacy(dsl)
        check_power_button(dsl)
        check_s5(dsl, open(os.path.join(d, "FACP.dsl")).read())
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
