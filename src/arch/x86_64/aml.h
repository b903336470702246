/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_X86_AML_H
#define SV_X86_AML_H

/*
 * A small AML (ACPI Machine Language) encoder: the named objects, devices and
 * resource buffers a DSDT of static devices needs, plus the few statements
 * of the GED's _EVT method (operation region, field, Store, And, If,
 * Notify).  Output goes to
 * a caller-provided buffer; running out of room or a bad name sets b->error and
 * later calls do nothing.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int error; /* 0, -ENOSPC or -EINVAL */
};

void aml_init(struct aml_buf *b, void *data, size_t cap);
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *data, size_t len);

/* "\\_SB_", "VR00", "\\_SB.VR00", "^PARN": segments shorter than 4 get '_' padding. */
void aml_name_string(struct aml_buf *b, const char *path);
/* ZeroOp, OneOp, OnesOp or the smallest of Byte/Word/DWord/QWord constants. */
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_string(struct aml_buf *b, const char *s);
/*
 * EISAID("PNP0501"): the compressed EISA id (3 letters A-Z, 4 hex digits) as
 * a DWord constant; anything else sets -EINVAL.
 */
void aml_eisa_id(struct aml_buf *b, const char *id);

/*
 * A package-length-prefixed object is opened, filled, then closed:
 *   size_t d = aml_device_begin(b, "VR00"); ...; aml_pkg_end(b, d);
 */
size_t aml_scope_begin(struct aml_buf *b, const char *name);
size_t aml_device_begin(struct aml_buf *b, const char *name);
void aml_pkg_end(struct aml_buf *b, size_t mark);

/* Package (n) { ... }: the caller appends n data objects, then aml_pkg_end(). */
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems);

/* Name(name, ...): the caller appends the data object. */
void aml_name_decl(struct aml_buf *b, const char *name);
/* Buffer(len) { data } */
void aml_buffer(struct aml_buf *b, const void *data, size_t len);

/* Resource descriptors for a _CRS buffer (ACPI 6.4 chapter 6.4). */
size_t aml_res_memory32_fixed(uint8_t *out, bool writable, uint32_t base, uint32_t size);
size_t aml_res_ext_interrupt(uint8_t *out, bool edge, bool active_low, bool shared, uint32_t gsi);
/* IO (Decode16, base, base, 1, len): a fixed 16-bit decoded port range. */
size_t aml_res_io(uint8_t *out, uint16_t base, uint8_t len);
/* IRQNoFlags () { irq }: an ISA IRQ (0-15), edge, active high, exclusive. */
size_t aml_res_irq_noflags(uint8_t *out, unsigned irq);
size_t aml_res_end_tag(uint8_t *out);

/*
 * Control methods and the statements _EVT uses (ACPI 6.4 20.2.5).  Operands
 * are appended by the caller in grammar order, e.g. Store (ESEL, Local0):
 *   aml_byte(b, AML_STORE_OP); aml_name_string(b, "ESEL"); aml_local(b, 0);
 */
#define AML_STORE_OP  0x70
#define AML_AND_OP    0x7b
#define AML_NOTIFY_OP 0x86
/* Method (name, nargs, Serialized|NotSerialized) { ... }: close with aml_pkg_end(). */
size_t aml_method_begin(struct aml_buf *b, const char *name, unsigned nargs, bool serialized);
/* If (predicate) { ... }: the caller appends the predicate, then the body. */
size_t aml_if_begin(struct aml_buf *b);
/* Local0..Local7, Arg0..Arg6. */
void aml_local(struct aml_buf *b, unsigned n);
void aml_arg(struct aml_buf *b, unsigned n);

/* OperationRegion (name, space, offset, len) */
#define AML_REGION_SYSTEM_MEMORY 0x00
#define AML_REGION_SYSTEM_IO	 0x01
void aml_operation_region(struct aml_buf *b, const char *name, uint8_t space, uint64_t offset,
			  uint64_t len);
/* Field (region, flags) { units... }: aml_field_unit() each, then aml_pkg_end(). */
#define AML_FIELD_BYTE_ACC	 0x01
#define AML_FIELD_WRITE_AS_ZEROS 0x40 /* UpdateRule 2; 0 is Preserve */
size_t aml_field_begin(struct aml_buf *b, const char *region, uint8_t flags);
void aml_field_unit(struct aml_buf *b, const char *name, unsigned bits);

/* Length of the PkgLength encoding of a package whose body is n bytes. */
size_t aml_pkg_length_size(size_t body);

#endif
