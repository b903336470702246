// SPDX-License-Identifier: MulanPSL-2.0
/* AML encoding per ACPI 6.4 chapter 20 (AML grammar). */
#include "arch/x86_64/aml.h"

#include <errno.h>
#include <string.h>

#define AML_ZERO_OP	  0x00
#define AML_ONE_OP	  0x01
#define AML_NAME_OP	  0x08
#define AML_BYTE_PREFIX	  0x0a
#define AML_WORD_PREFIX	  0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX  0x0e
#define AML_SCOPE_OP	  0x10
#define AML_BUFFER_OP	  0x11
#define AML_PACKAGE_OP	  0x12
#define AML_METHOD_OP	  0x14
#define AML_DUAL_NAME	  0x2e
#define AML_MULTI_NAME	  0x2f
#define AML_EXT_OP	  0x5b
#define AML_DEVICE_OP	  0x82 /* after AML_EXT_OP */
#define AML_OPREGION_OP	  0x80 /* after AML_EXT_OP */
#define AML_FIELD_OP	  0x81 /* after AML_EXT_OP */
#define AML_LOCAL0_OP	  0x60
#define AML_ARG0_OP	  0x68
#define AML_IF_OP	  0xa0
#define AML_ROOT_CHAR	  '\\'
#define AML_PARENT_CHAR	  '^'
#define AML_ONES_OP	  0xff
#define AML_PKG_RESERVE	  4 /* the longest PkgLength */
#define AML_PKG_MAX	  0x0fffffff

void aml_init(struct aml_buf *b, void *data, size_t cap)
{
	b->data = data;
	b->len = 0;
	b->cap = cap;
	b->error = 0;
}

void aml_bytes(struct aml_buf *b, const void *data, size_t len)
{
	if (b->error)
		return;
	if (len > b->cap - b->len) {
		b->error = -ENOSPC;
		return;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

static bool name_char_ok(char c, bool lead)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (!lead && c >= '0' && c <= '9');
}

void aml_name_string(struct aml_buf *b, const char *path)
{
	char segs[255][4];
	int nseg = 0;

	while (*path == AML_ROOT_CHAR || *path == AML_PARENT_CHAR)
		aml_byte(b, (uint8_t)*path++);
	while (*path) {
		int n = 0;

		if (nseg == 255) {
			b->error = -EINVAL;
			return;
		}
		memset(segs[nseg], '_', 4);
		for (; *path && *path != '.'; path++, n++) {
			if (n == 4 || !name_char_ok(*path, n == 0)) {
				b->error = -EINVAL;
				return;
			}
			segs[nseg][n] = *path;
		}
		if (n == 0) {
			b->error = -EINVAL;
			return;
		}
		nseg++;
		if (*path == '.' && !*++path) {
			b->error = -EINVAL;
			return;
		}
	}
	if (nseg == 0) {
		aml_byte(b, 0); /* NullName */
		return;
	}
	if (nseg == 2) {
		aml_byte(b, AML_DUAL_NAME);
	} else if (nseg > 2) {
		aml_byte(b, AML_MULTI_NAME);
		aml_byte(b, (uint8_t)nseg);
	}
	aml_bytes(b, segs, (size_t)nseg * 4);
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t le[8];
	size_t n;

	if (v == 0 || v == 1) {
		aml_byte(b, v ? AML_ONE_OP : AML_ZERO_OP);
		return;
	}
	if (v == UINT64_MAX) {
		aml_byte(b, AML_ONES_OP);
		return;
	}
	if (v <= UINT8_MAX) {
		aml_byte(b, AML_BYTE_PREFIX);
		n = 1;
	} else if (v <= UINT16_MAX) {
		aml_byte(b, AML_WORD_PREFIX);
		n = 2;
	} else if (v <= UINT32_MAX) {
		aml_byte(b, AML_DWORD_PREFIX);
		n = 4;
	} else {
		aml_byte(b, AML_QWORD_PREFIX);
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(b, le, n);
}

void aml_string(struct aml_buf *b, const char *s)
{
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			b->error = -EINVAL;
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisa_id(struct aml_buf *b, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		b->error = -EINVAL;
		return;
	}
	/* Three 5-bit letters ('A' is 1) then four nibbles, most significant first. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			b->error = -EINVAL;
			return;
		}
		v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0) {
			b->error = -EINVAL;
			return;
		}
		v = (v << 4) | (uint32_t)d;
	}
	/* The id is stored big-endian in the DWord's four bytes. */
	aml_byte(b, AML_DWORD_PREFIX);
	aml_byte(b, (uint8_t)(v >> 24));
	aml_byte(b, (uint8_t)(v >> 16));
	aml_byte(b, (uint8_t)(v >> 8));
	aml_byte(b, (uint8_t)v);
}

size_t aml_pkg_length_size(size_t body)
{
	/* The length counts its own bytes: 6 bits in one byte, else 4 + 8 per byte. */
	if (body + 1 < 0x40)
		return 1;
	if (body + 2 < 0x1000)
		return 2;
	if (body + 3 < 0x100000)
		return 3;
	return 4;
}

static size_t pkg_begin(struct aml_buf *b)
{
	size_t mark = b->len;
	static const uint8_t reserve[AML_PKG_RESERVE];

	aml_bytes(b, reserve, sizeof(reserve));
	return mark;
}

void aml_pkg_end(struct aml_buf *b, size_t mark)
{
	size_t body, n, total;
	uint8_t *p;

	if (b->error)
		return;
	body = b->len - mark - AML_PKG_RESERVE;
	n = aml_pkg_length_size(body);
	total = body + n;
	if (total > AML_PKG_MAX) {
		b->error = -ENOSPC;
		return;
	}
	p = b->data + mark;
	memmove(p + n, p + AML_PKG_RESERVE, body);
	b->len -= AML_PKG_RESERVE - n;
	if (n == 1) {
		p[0] = (uint8_t)total;
		return;
	}
	p[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
	for (size_t i = 1; i < n; i++)
		p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

size_t aml_scope_begin(struct aml_buf *b, const char *name)
{
	size_t mark;

	aml_byte(b, AML_SCOPE_OP);
	mark = pkg_begin(b);
	aml_name_string(b, name);
	return mark;
}

size_t aml_device_begin(struct aml_buf *b, const char *name)
{
	size_t mark;

	aml_byte(b, AML_EXT_OP);
	aml_byte(b, AML_DEVICE_OP);
	mark = pkg_begin(b);
	aml_name_string(b, name);
	return mark;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nelems)
{
	size_t mark;

	aml_byte(b, AML_PACKAGE_OP);
	mark = pkg_begin(b);
	aml_byte(b, nelems); /* NumElements */
	return mark;
}

void aml_name_decl(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	aml_name_string(b, name);
}

void aml_buffer(struct aml_buf *b, const void *data, size_t len)
{
	size_t mark;

	aml_byte(b, AML_BUFFER_OP);
	mark = pkg_begin(b);
	aml_integer(b, len);
	aml_bytes(b, data, len);
	aml_pkg_end(b, mark);
}

size_t aml_method_begin(struct aml_buf *b, const char *name, unsigned nargs, bool serialized)
{
	size_t mark;

	if (nargs > 7)
		b->error = -EINVAL;
	aml_byte(b, AML_METHOD_OP);
	mark = pkg_begin(b);
	aml_name_string(b, name);
	/* MethodFlags: ArgCount in bits 0-2, SerializeFlag bit 3, SyncLevel 0 */
	aml_byte(b, (uint8_t)((nargs & 7) | (serialized ? 8 : 0)));
	return mark;
}

size_t aml_if_begin(struct aml_buf *b)
{
	aml_byte(b, AML_IF_OP);
	return pkg_begin(b);
}

void aml_local(struct aml_buf *b, unsigned n)
{
	if (n > 7)
		b->error = -EINVAL;
	aml_byte(b, (uint8_t)(AML_LOCAL0_OP + (n & 7)));
}

void aml_arg(struct aml_buf *b, unsigned n)
{
	if (n > 6)
		b->error = -EINVAL;
	aml_byte(b, (uint8_t)(AML_ARG0_OP + (n < 7 ? n : 0)));
}

void aml_operation_region(struct aml_buf *b, const char *name, uint8_t space, uint64_t offset,
			  uint64_t len)
{
	aml_byte(b, AML_EXT_OP);
	aml_byte(b, AML_OPREGION_OP);
	aml_name_string(b, name);
	aml_byte(b, space);
	aml_integer(b, offset);
	aml_integer(b, len);
}

size_t aml_field_begin(struct aml_buf *b, const char *region, uint8_t flags)
{
	size_t mark;

	aml_byte(b, AML_EXT_OP);
	aml_byte(b, AML_FIELD_OP);
	mark = pkg_begin(b);
	aml_name_string(b, region);
	aml_byte(b, flags);
	return mark;
}

void aml_field_unit(struct aml_buf *b, const char *name, unsigned bits)
{
	uint8_t seg[4];
	size_t n = strlen(name);

	/* NamedField: a NameSeg then the width in bits as a PkgLength (one byte here). */
	if (n == 0 || n > 4 || bits == 0 || bits >= 0x40) {
		b->error = -EINVAL;
		return;
	}
	memset(seg, '_', sizeof(seg));
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok(name[i], i == 0)) {
			b->error = -EINVAL;
			return;
		}
		seg[i] = (uint8_t)name[i];
	}
	aml_bytes(b, seg, sizeof(seg));
	aml_byte(b, (uint8_t)bits);
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t aml_res_memory32_fixed(uint8_t *out, bool writable, uint32_t base, uint32_t size)
{
	out[0] = 0x86; /* large item, Memory32Fixed */
	put_le(out + 1, 9, 2);
	out[3] = writable ? 1 : 0;
	put_le(out + 4, base, 4);
	put_le(out + 8, size, 4);
	return 12;
}

size_t aml_res_ext_interrupt(uint8_t *out, bool edge, bool active_low, bool shared, uint32_t gsi)
{
	out[0] = 0x89; /* large item, Extended Interrupt */
	put_le(out + 1, 6, 2);
	/* bit 0 consumer, 1 edge (_HE), 2 active low (_LL), 3 shared (_SHR) */
	out[3] = (uint8_t)(1 | (edge ? 2 : 0) | (active_low ? 4 : 0) | (shared ? 8 : 0));
	out[4] = 1; /* interrupt table length */
	put_le(out + 5, gsi, 4);
	return 9;
}

size_t aml_res_io(uint8_t *out, uint16_t base, uint8_t len)
{
	out[0] = 0x47; /* small item, I/O port, length 7 */
	out[1] = 1;    /* decodes 16 address bits */
	put_le(out + 2, base, 2);
	put_le(out + 4, base, 2);
	out[6] = 1; /* alignment */
	out[7] = len;
	return 8;
}

size_t aml_res_irq_noflags(uint8_t *out, unsigned irq)
{
	out[0] = 0x22; /* small item, IRQ, length 2: no flags byte */
	put_le(out + 1, irq < 16 ? 1u << irq : 0, 2);
	return 3;
}

size_t aml_res_end_tag(uint8_t *out)
{
	out[0] = 0x79; /* small item, End Tag, length 1 */
	out[1] = 0;    /* checksum 0: "treat as correct" */
	return 2;
}
