/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Exception entry stubs: each pushes a zero error code where the CPU does
 * not, then its vector, and joins isr_common, which hands a struct
 * exc_frame (see main.c) to exception_handler(). Nothing returns.
 */
	.text
	.code64

.macro ISR vec
	.balign	16
isr_\vec:
	.if !((\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
	pushq	$0
	.endif
	pushq	$\vec
	jmp	isr_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR \v
.endr

isr_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	and	$~0xf, %rsp
	call	exception_handler
1:	cli
	hlt
	jmp	1b

	.section .rodata
	.balign	8
	.globl	isr_table
isr_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	isr_\v
.endr
