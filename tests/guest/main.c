// SPDX-License-Identifier: MulanPSL-2.0
/*
 * Test guest main program: runs the registered checks selected by tests=
 * and reports each over COM1, then ends the VM. See docs/test-guest.md.
 */
#include <stdarg.h>
#include <stdint.h>

#include "boot.h"
#include "check.h"
#include "defs.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/exit.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"

extern const struct check __checks_start[], __checks_end[];
extern const uint64_t isr_table[32];
extern char _image_start[], _image_end[];

struct guest_facts facts;
static unsigned int nr_pass, nr_fail;

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t zero;
} __attribute__((packed));

static struct idt_entry idt[32] __attribute__((aligned(16)));

struct idt_desc {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Pushed by isr.S, lowest address first. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

void idt_load(void)
{
	struct idt_desc d = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	__asm__ volatile("lidt %0" : : "m"(d));
}

static void idt_init(void)
{
	unsigned int i;

	for (i = 0; i < 32; i++) {
		uint64_t a = isr_table[i];

		idt[i].offset_lo = (uint16_t)a;
		idt[i].selector = SEL_CODE64;
		idt[i].type = 0x8e; /* present, ring 0, 64-bit interrupt gate */
		idt[i].offset_mid = (uint16_t)(a >> 16);
		idt[i].offset_hi = (uint32_t)(a >> 32);
	}
	idt_load();
}

void exception_handler(const struct exc_frame *f) __attribute__((noreturn));

void exception_handler(const struct exc_frame *f)
{
	nr_fail++;
	printf("FAIL exception: vector %u error 0x%lx rip 0x%lx rsp 0x%lx cr2 0x%lx\n",
	       (unsigned int)f->vector, f->error, f->rip, f->rsp, read_cr2());
	printf("SVTEST DONE pass=%u fail=%u\n", nr_pass, nr_fail);
	guest_exit(nr_fail);
}

bool strict_mode(void)
{
	return cmdline_is("strict", "1");
}

static enum check_result check_vset(struct check_ctx *ctx, enum check_result r, const char *fmt,
				    va_list ap)
{
	vsnprintf(ctx->reason, sizeof(ctx->reason), fmt, ap);
	return r;
}

enum check_result check_fail(struct check_ctx *ctx, const char *fmt, ...)
{
	enum check_result r;
	va_list ap;

	va_start(ap, fmt);
	r = check_vset(ctx, CHECK_FAIL, fmt, ap);
	va_end(ap);
	return r;
}

enum check_result check_skip(struct check_ctx *ctx, const char *fmt, ...)
{
	enum check_result r;
	va_list ap;

	va_start(ap, fmt);
	r = check_vset(ctx, CHECK_SKIP, fmt, ap);
	va_end(ap);
	return r;
}

void report(const char *name, enum check_result res, const char *reason)
{
	switch (res) {
	case CHECK_PASS:
		nr_pass++;
		printf("PASS %s\n", name);
		break;
	case CHECK_FAIL:
		nr_fail++;
		printf("FAIL %s: %s\n", name, reason && reason[0] ? reason : "failed");
		break;
	case CHECK_SKIP:
		printf("SKIP %s: %s\n", name, reason && reason[0] ? reason : "skipped");
		break;
	}
}

static const struct check *find_check(const char *name, size_t len)
{
	const struct check *c;

	for (c = __checks_start; c < __checks_end; c++) {
		if (strlen(c->name) == len && !strncmp(c->name, name, len))
			return c;
	}
	return NULL;
}

static void run_check(const struct check *c)
{
	struct check_ctx ctx;

	ctx.reason[0] = '\0';
	report(c->name, c->run(&ctx), ctx.reason);
}

/* tests=a,b,c runs those in the given order; names we do not know fail. */
static void run_selected(void)
{
	const struct check *c;
	char list[256];
	const char *p;

	if (!cmdline_get("tests", list, sizeof(list))) {
		for (c = __checks_start; c < __checks_end; c++) {
			if (c->in_default)
				run_check(c);
		}
		return;
	}
	for (p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n) {
			c = find_check(p, n);
			if (c) {
				run_check(c);
			} else {
				char name[64];
				size_t m = n < sizeof(name) - 1 ? n : sizeof(name) - 1;

				memcpy(name, p, m);
				name[m] = '\0';
				report(name, CHECK_FAIL, "unknown check");
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

void guest_main(int kind, uint64_t info_addr)
{
	uint64_t v;

	serial_init();
	idt_init();
	boot_info_init(kind, info_addr);
	alloc_init(boot_is_ram(ALLOC_START, ALLOC_END - ALLOC_START));
	if (cmdline_get_u64("cpus", &v))
		facts.cpus_expected = (unsigned int)v;

	printf("SVTEST START\n");
	printf("INFO boot=%s info=0x%lx image=0x%lx-0x%lx cmdline=\"%s\"\n", boot_kind_name(),
	       info_addr, (uint64_t)(uintptr_t)_image_start, (uint64_t)(uintptr_t)_image_end,
	       cmdline());
	run_selected();
	printf("SVTEST DONE pass=%u fail=%u\n", nr_pass, nr_fail);
	guest_exit(nr_fail);
}
