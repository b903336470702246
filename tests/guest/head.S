/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * Entry stubs of the test guest.
 *
 * entry64:     Linux 64-bit boot protocol (long mode, rsi = boot_params). It is
 *              the first byte of svguest.bin and the ELF's e_entry.
 * pvh_entry32: Xen PVH entry (32-bit protected mode, paging off,
 *              ebx = hvm_start_info), announced by the PHYS32_ENTRY ELF note.
 *
 * Both write the boot-timer marker first, honour mode=first, zero .bss,
 * switch to our own GDT and 4 GiB identity map and call guest_main().
 */
#include "defs.h"

#define MSR_EFER     0xc0000080
#define EFER_LME     0x100
#define CR0_PE       0x1
#define CR0_PG       0x80000000
#define CR4_PAE      0x20
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/*
 * mode=first: exit through the debug port with status 0 as soon as the
 * command line says so. \p points to the NUL-terminated command line (0 if
 * none); \n is a scratch count register. Clobbers eax, edx.
 * Reads at most 11 bytes past a candidate position: fine, it is RAM.
 */
.macro EXIT_IF_MODE_FIRST p, n
	test	\p, \p
	jz	.Lnot_first\@
	mov	$4096, \n
.Lscan\@:
	cmpb	$0, (\p)
	je	.Lnot_first\@
	cmpl	$0x65646f6d, (\p)	/* "mode" */
	jne	.Lnext\@
	cmpl	$0x7269663d, 4(\p)	/* "=fir" */
	jne	.Lnext\@
	cmpw	$0x7473, 8(\p)		/* "st" */
	jne	.Lnext\@
	movzbl	10(\p), %eax
	test	%al, %al
	jz	.Lfirst\@
	cmp	$' ', %al
	je	.Lfirst\@
.Lnext\@:
	inc	\p
	dec	\n
	jnz	.Lscan\@
	jmp	.Lnot_first\@
.Lfirst\@:
	mov	$PORT_DEBUG_EXIT, %dx
	xor	%eax, %eax
	outl	%eax, %dx
.Lstop\@:
	cli
	hlt
	jmp	.Lstop\@
.Lnot_first\@:
.endm

	.section .text.head, "ax"
	.code64
	.globl	entry64
entry64:
	outb	%al, $PORT_BOOT_TIMER	/* the first instruction */
	mov	%rsi, %rbx
	xor	%edi, %edi
	test	%rbx, %rbx
	jz	1f
	mov	0x228(%rbx), %edi	/* hdr.cmd_line_ptr */
	mov	0x0c8(%rbx), %eax	/* ext_cmd_line_ptr */
	shl	$32, %rax
	or	%rax, %rdi
1:
	EXIT_IF_MODE_FIRST %rdi, %rcx
	cld
	mov	$_bss_start, %edi
	mov	$_bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	mov	%rbx, boot_info_addr(%rip)
	movl	$BOOT_KIND_LINUX64, boot_kind(%rip)
	lgdt	gdt_desc(%rip)
	mov	$pml4, %eax
	mov	%rax, %cr3
	pushq	$SEL_CODE64
	pushq	$start64
	lretq

	.text
	.code32
	.globl	pvh_entry32
pvh_entry32:
	outb	%al, $PORT_BOOT_TIMER	/* the first instruction */
	xor	%edi, %edi
	cmpl	$PVH_START_MAGIC, (%ebx)
	jne	1f
	mov	24(%ebx), %edi		/* cmdline_paddr, low half */
1:
	EXIT_IF_MODE_FIRST %edi, %ecx
	cld
	mov	$_bss_start, %edi
	mov	$_bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	mov	%ebx, boot_info_addr
	movl	$0, boot_info_addr + 4
	movl	$BOOT_KIND_PVH, boot_kind
	lgdt	gdt_desc
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	$bsp_stack_top, %esp
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG | CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$SEL_CODE64, $start64

	.code64
start64:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$bsp_stack_top, %rsp
	xor	%ebp, %ebp
	mov	boot_kind(%rip), %edi
	mov	boot_info_addr(%rip), %rsi
	call	guest_main
2:	cli
	hlt
	jmp	2b

/* Application processors arrive here from the trampoline, in long mode. */
	.globl	ap_start64
ap_start64:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$1, %eax
	lock xadd %eax, ap_stack_next(%rip)
	cmp	$MAX_CPUS, %eax
	jae	3f
	inc	%eax
	shl	$AP_STACK_SHIFT, %rax
	lea	ap_stacks(%rip), %rsp
	add	%rax, %rsp
	xor	%ebp, %ebp
	call	ap_main
3:	cli
	hlt
	jmp	3b

	.data
	.balign	16
	.globl	gdt, gdt_end
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* SEL_CODE64 */
	.quad	0x00cf92000000ffff	/* SEL_DATA */
	.quad	0x00cf9a000000ffff	/* SEL_CODE32 */
gdt_end:
	.balign	8
	.globl	gdt_desc
gdt_desc:
	.word	GDT_BYTES - 1
	.quad	gdt

/* Set before .bss is zeroed, so they live in .data. */
	.balign	8
boot_info_addr:
	.quad	0
boot_kind:
	.long	0
ap_stack_next:
	.long	0

/*
 * Identity map of the first 4 GiB with 2 MiB pages, built by the assembler:
 * the 64-bit entry needs it before any C code runs just as the 32-bit one.
 * The top GiB (devices) is uncached.
 */
	.section .data.pagetables, "aw"
	.balign	4096
	.globl	pml4
pml4:
	.quad	pdpt + 0x3
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + 0x3
	.quad	pd + 0x1000 + 0x3
	.quad	pd + 0x2000 + 0x3
	.quad	pd + 0x3000 + 0x3
	.fill	508, 8, 0
pd:
	.set	addr, 0
	.rept	2048
	.if	addr >= 0xc0000000
	.quad	addr + 0x9b		/* P RW PWT PCD PS */
	.else
	.quad	addr + 0x83		/* P RW PS */
	.endif
	.set	addr, addr + 0x200000
	.endr

	.bss
	.balign	4096
bsp_stack:
	.skip	BSP_STACK_SIZE
bsp_stack_top:
	.globl	ap_stacks
ap_stacks:
	.skip	(MAX_CPUS + 1) << AP_STACK_SHIFT

/*
 * PVH entry note. QEMU 7.2 reads the descriptor as a native-size word, so
 * it is 8 bytes wide; a reader taking 4 bytes gets the same value.
 */
	.section .note.Xen, "a", @note
	.balign	4
	.long	4			/* namesz */
	.long	8			/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign	4
	.quad	pvh_entry32
	.balign	4
