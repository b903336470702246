/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_EXIT_H
#define SVGUEST_EXIT_H

/*
 * Ends the VM as exit= on the command line says: i8042 (reset command 0xfe
 * to port 0x64), acpi_s5 (SLP_TYP of \_S5 | SLP_EN to the FADT's sleep
 * control register, as the acpi check found them) or debug (status to port
 * 0xf4, the default).  If i8042 or acpi_s5 leaves the VM running, the status
 * goes to port 0xf4 with one failure more.
 */
void guest_exit(unsigned int status) __attribute__((noreturn));

#endif
