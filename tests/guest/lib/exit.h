/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SVGUEST_EXIT_H
#define SVGUEST_EXIT_H

/*
 * Ends the VM as exit= on the command line says: i8042 (reset command 0xfe
 * to port 0x64) or debug (status to port 0xf4, the default).
 */
void guest_exit(unsigned int status) __attribute__((noreturn));

#endif
