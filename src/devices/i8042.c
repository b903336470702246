// SPDX-License-Identifier: MulanPSL-2.0
/*
 * A minimal i8042 keyboard controller: enough for Linux to probe it, and the
 * pulse-reset command (0xfe), which is how reboot=k guests end the VM.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "machine/vm.h"
#include "util/log.h"

#define STATUS_OBF	0x01 /* output buffer full */
#define STATUS_SYS	0x04 /* self test passed */
#define STATUS_CMD	0x08 /* last write was a command */
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited (no key lock) */
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_OFF	0xa7
#define CMD_AUX_ON	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_OFF	0xad
#define CMD_KBD_ON	0xae
#define CMD_READ_OUTP	0xd0
#define CMD_WRITE_OUTP	0xd1
#define CMD_WRITE_AUX	0xd4
#define CMD_RESET	0xfe

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t status;
	uint8_t ctr;
	uint8_t pending_cmd; /* command waiting for its data byte */
	uint8_t out[8];
	unsigned out_len;
};

static struct i8042 kbc;

static void out_push(struct i8042 *k, uint8_t v)
{
	if (k->out_len < sizeof(k->out))
		k->out[k->out_len++] = v;
}

static void write_command(struct i8042 *k, uint8_t cmd)
{
	k->status |= STATUS_CMD;
	switch (cmd) {
	case CMD_READ_CTR:
		out_push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_AUX:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		out_push(k, 0x55);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		out_push(k, 0x00);
		break;
	case CMD_READ_OUTP:
		out_push(k, 0x01);
		break;
	case CMD_AUX_OFF:
		k->ctr |= 0x20;
		break;
	case CMD_AUX_ON:
		k->ctr &= ~0x20;
		break;
	case CMD_KBD_OFF:
		k->ctr |= 0x10;
		break;
	case CMD_KBD_ON:
		k->ctr &= ~0x10;
		break;
	case CMD_RESET:
		pr_info("i8042: guest requested a reset");
		vm_request_shutdown(k->vm, SHUTDOWN_GUEST_RESET, 0);
		break;
	default:
		break;
	}
}

static void write_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->status &= ~STATUS_CMD;
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		if (!(v & 0x01)) { /* bit 0 low: system reset */
			vm_request_shutdown(k->vm, SHUTDOWN_GUEST_RESET, 0);
		}
		break;
	case CMD_WRITE_AUX:
		break; /* no mouse: swallow */
	default:
		/* A keyboard command: acknowledge, answer reset with "passed". */
		out_push(k, 0xfa);
		if (v == 0xff)
			out_push(k, 0xaa);
		break;
	}
}

static void i8042_access(struct i8042 *k, bool is_cmd_port, uint8_t *data, uint32_t len,
			 bool is_write)
{
	if (len != 1)
		return;
	pthread_mutex_lock(&k->lock);
	if (!is_cmd_port) { /* 0x60 */
		if (is_write) {
			write_data(k, data[0]);
		} else if (k->out_len) {
			data[0] = k->out[0];
			memmove(k->out, k->out + 1, --k->out_len);
		}
	} else { /* 0x64 */
		if (is_write)
			write_command(k, data[0]);
		else
			data[0] = (uint8_t)(k->status | (k->out_len ? STATUS_OBF : 0));
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_data_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	(void)offset;
	i8042_access(opaque, false, data, len, is_write);
}

static void i8042_cmd_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	(void)offset;
	i8042_access(opaque, true, data, len, is_write);
}

static int i8042_init(struct vm *vm)
{
	int ret;

	memset(&kbc, 0, sizeof(kbc));
	kbc.vm = vm;
	/* Clear, the "inhibited" bit makes Linux warn "Keylock active". */
	kbc.status = STATUS_SYS | STATUS_UNLOCKED;
	kbc.ctr = 0x30; /* both ports disabled until the guest enables them */
	pthread_mutex_init(&kbc.lock, NULL);
	ret = bus_register(&vm->pio_bus, PORT_I8042_DATA, 1, i8042_data_io, &kbc, "i8042");
	if (!ret)
		ret = bus_register(&vm->pio_bus, PORT_I8042_CMD, 1, i8042_cmd_io, &kbc, "i8042");
	if (ret < 0)
		fprintf(stderr, "stratovirt: cannot register i8042: %s\n", strerror(-ret));
	return ret;
}

static const struct vm_device_ops i8042_ops = {
    .name = "i8042",
    .order = 11,
    .init = i8042_init,
};
VM_DEVICE_REGISTER(i8042_ops)
