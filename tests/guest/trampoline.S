/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Real-mode start code for the application processors. smp.c copies the
 * bytes between trampoline_start and trampoline_end to AP_TRAMPOLINE_BASE and
 * sends SIPI vector AP_TRAMPOLINE_BASE >> 12, so the AP starts here with
 * CS = AP_TRAMPOLINE_BASE >> 4, IP = 0. It loads the main GDT, enters
 * protected mode, then long mode on the BSP's page tables, and jumps to
 * ap_start64 in the image.
 */
#include "defs.h"

#define REL(x) ((x) - trampoline_start)
#define ABS(x) (AP_TRAMPOLINE_BASE + REL(x))

	.section .rodata.trampoline, "a"
	.globl	trampoline_start, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	REL(tr_gdt_desc)
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $ABS(tr_pm32)

	.code32
tr_pm32:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx	/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax	/* PG */
	mov	%eax, %cr0
	ljmp	$SEL_CODE64, $ap_start64

	.balign	8
tr_gdt_desc:
	.word	GDT_BYTES - 1
	.long	gdt
trampoline_end:
