// SPDX-License-Identifier: MulanPSL-2.0
/*
 * virtio-fs (device 26) without Linux: FUSE_INIT on the request queue, then
 * FUSE_LOOKUP of fsfile= (default svguest-fs.txt) in the root, FUSE_OPEN and
 * FUSE_READ of its first bytes.  The file's size and contents are printed
 * for the host to compare (tests/integration/test_virtiofs.py).  The config
 * tag must equal fstag= when given.
 *   fsmode=broken  the back end misbehaves at set-up: the check passes when
 *                  the device sets NEEDS_RESET (or FUSE_INIT gets no answer)
 *   fsmode=kill    after FUSE_INIT the guest prints SVTEST FS-KILL-NOW, the
 *                  host kills virtiofsd, and the device must set NEEDS_RESET
 *   fsbench=1      then reads the whole of fsfile= in fschunk= bytes (default
 *                  128 KiB) between SVTEST FSBENCH-START and SVTEST
 *                  FSBENCH-END lines, which the host times (bench/vhost.py)
 */
#include "check.h"
#include "lib/alloc.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "virtio/virtio.h"

#define VIO_ID_FS 26

#define FUSE_LOOKUP 1
#define FUSE_OPEN   14
#define FUSE_READ   15
#define FUSE_INIT   26

#define FS_READ_MAX 64

struct fuse_in_header {
	uint32_t len, opcode;
	uint64_t unique, nodeid;
	uint32_t uid, gid, pid;
	uint16_t total_extlen, padding;
};

struct fuse_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};

struct fuse_attr {
	uint64_t ino, size, blocks, atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec, mode, nlink, uid, gid, rdev, blksize, flags;
};

struct fuse_entry_out {
	uint64_t nodeid, generation, entry_valid, attr_valid;
	uint32_t entry_valid_nsec, attr_valid_nsec;
	struct fuse_attr attr;
};

struct fuse_open_out {
	uint64_t fh;
	uint32_t open_flags, padding;
};

struct fuse_read_in {
	uint64_t fh, offset;
	uint32_t size, read_flags;
	uint64_t lock_owner;
	uint32_t flags, padding;
};

static uint64_t next_unique = 1;

/*
 * One request: header + args readable, out header + reply writable.
 * 1 on an answer (error in *err, reply bytes in *rlen), 0 on timeout,
 * -1 when the device set NEEDS_RESET, -2 for an answer to another request.
 */
static int fuse_call(struct vq *q, uint32_t opcode, uint64_t nodeid, const void *arg,
		     uint32_t arglen, void *reply, uint32_t replylen, int32_t *err, uint32_t *rlen)
{
	struct fuse_in_header *in = page_alloc(1);
	struct fuse_out_header *out = page_alloc(1);
	struct vbuf b[4];
	uint32_t len;
	unsigned int n = 0;
	int ret;

	if (!in || !out)
		return 0;
	memset(in, 0, sizeof(*in));
	in->len = sizeof(*in) + arglen;
	in->opcode = opcode;
	in->unique = next_unique++;
	in->nodeid = nodeid;
	memcpy(in + 1, arg, arglen);
	b[n++] = (struct vbuf){vaddr(in), sizeof(*in) + arglen, false};
	b[n++] = (struct vbuf){vaddr(out), sizeof(*out), true};
	b[n++] = (struct vbuf){vaddr(out + 1), replylen, true};
	ret = vq_transact(q, b, n, &len);
	if (ret != 1)
		return ret;
	if (len < sizeof(*out) || out->unique != in->unique)
		return -2;
	*err = out->error;
	*rlen = out->len > sizeof(*out) ? out->len - sizeof(*out) : 0;
	if (*rlen > replylen)
		*rlen = replylen;
	memcpy(reply, out + 1, *rlen);
	return 1;
}

/* Sequential FUSE_READs of the whole file through one reused set of buffers. */
static int fs_bench(struct vq *q, uint64_t nodeid, uint64_t fh, uint64_t size, uint32_t chunk,
		    uint64_t *done)
{
	struct fuse_in_header *in = page_alloc(1);
	struct fuse_out_header *out = page_alloc(1);
	struct fuse_read_in *rd = (struct fuse_read_in *)(in + 1);
	uint8_t *data = vio_scratch(chunk);
	uint32_t len;

	if (!in || !out || !data)
		return -1;
	*done = 0;
	while (*done < size) {
		struct vbuf b[3] = {{vaddr(in), sizeof(*in) + sizeof(*rd), false},
				    {vaddr(out), sizeof(*out), true},
				    {vaddr(data), chunk, true}};

		memset(in, 0, sizeof(*in) + sizeof(*rd));
		in->len = sizeof(*in) + sizeof(*rd);
		in->opcode = FUSE_READ;
		in->unique = next_unique++;
		in->nodeid = nodeid;
		rd->fh = fh;
		rd->offset = *done;
		rd->size = chunk;
		if (vq_transact(q, b, 3, &len) != 1 || out->error || out->unique != in->unique)
			return -1;
		if (out->len <= sizeof(*out))
			break; /* end of file */
		*done += out->len - sizeof(*out);
	}
	return 0;
}

static const char *call_error(int ret)
{
	return ret == 0 ? "timed out" : ret == -1 ? "device set NEEDS_RESET" : "bad reply header";
}

static enum check_result check_virtio_fs(struct check_ctx *ctx)
{
	static struct vdev d;
	static struct vq hiprio, req;
	uint32_t init_in[16] = {7, 31, 0, 0}; /* major, minor, max_readahead, flags */
	uint8_t reply[256];
	struct fuse_entry_out entry;
	struct fuse_open_out open;
	struct fuse_read_in rd = {0};
	char tag[37], want[40], name[64] = "svguest-fs.txt";
	uint32_t open_in[2] = {0, 0}; /* O_RDONLY */
	uint32_t rlen, major, minor;
	bool broken = cmdline_is("fsmode", "broken");
	bool kill = cmdline_is("fsmode", "kill");
	const char *why;
	int32_t err;
	int ret;

	if (!vio_find(VIO_ID_FS, 0, &d))
		return check_fail(ctx, "no virtio-fs transport");
	for (unsigned int i = 0; i < 36; i++)
		tag[i] = (char)vio_cfg8(&d, i);
	tag[36] = 0;
	if (cmdline_get("fstag", want, sizeof(want)) && strcmp(tag, want))
		return check_fail(ctx, "config tag '%s', want '%s'", tag, want);
	if (vio_cfg32(&d, 36) != 1)
		return check_fail(ctx, "num_request_queues %u, want 1", vio_cfg32(&d, 36));
	cmdline_get("fsfile", name, sizeof(name));
	if (vio_init(&d, 0, &why) < 0 || vq_setup(&d, &hiprio, 0, VQ_DEFAULT, &why) < 0 ||
	    vq_setup(&d, &req, 1, VQ_DEFAULT, &why) < 0)
		return check_fail(ctx, "%s", why);
	vio_driver_ok(&d);
	if (vio_status(&d) & VIO_S_NEEDS_RESET) {
		if (broken)
			goto expected_failure;
		return check_fail(ctx, "NEEDS_RESET right after DRIVER_OK");
	}

	ret = fuse_call(&req, FUSE_INIT, 0, init_in, sizeof(init_in), reply, sizeof(reply), &err,
			&rlen);
	if (broken && ret != 1)
		goto expected_failure;
	if (broken)
		return check_fail(ctx, "FUSE_INIT answered although the back end is gone");
	if (ret != 1)
		return check_fail(ctx, "FUSE_INIT: %s", call_error(ret));
	if (err || rlen < 8)
		return check_fail(ctx, "FUSE_INIT: error %d, %u reply bytes", err, rlen);
	memcpy(&major, reply, 4);
	memcpy(&minor, reply + 4, 4);
	if (major != 7)
		return check_fail(ctx, "FUSE_INIT: major %u", major);
	if (kill) {
		printf("SVTEST FS-KILL-NOW\n");
		for (unsigned int i = 0; i < 50 && !(vio_status(&d) & VIO_S_NEEDS_RESET); i++)
			for (uint64_t n = 0;
			     n < VIO_WAIT_POLLS && !(vio_status(&d) & VIO_S_NEEDS_RESET); n++)
				;
		if (!(vio_status(&d) & VIO_S_NEEDS_RESET))
			return check_fail(ctx, "no NEEDS_RESET after virtiofsd was killed");
		ret = fuse_call(&req, FUSE_LOOKUP, 1, name, strlen(name) + 1, &entry, sizeof(entry),
				&err, &rlen);
		if (ret != -1)
			return check_fail(ctx, "a request after NEEDS_RESET: %d", ret);
		printf("INFO virtio_fs NEEDS_RESET after the kill: status 0x%x\n", vio_status(&d));
		vio_reset(&d);
		return CHECK_PASS;
	}

	ret = fuse_call(&req, FUSE_LOOKUP, 1, name, strlen(name) + 1, &entry, sizeof(entry), &err,
			&rlen);
	if (ret != 1)
		return check_fail(ctx, "FUSE_LOOKUP %s: %s", name, call_error(ret));
	if (err || rlen < sizeof(entry))
		return check_fail(ctx, "FUSE_LOOKUP %s: error %d, %u reply bytes", name, err, rlen);

	ret = fuse_call(&req, FUSE_OPEN, entry.nodeid, open_in, sizeof(open_in), &open,
			sizeof(open), &err, &rlen);
	if (ret != 1 || err || rlen < sizeof(open))
		return check_fail(ctx, "FUSE_OPEN: %s error %d", ret == 1 ? "" : call_error(ret),
				  err);
	rd.fh = open.fh;
	rd.size = FS_READ_MAX;
	ret = fuse_call(&req, FUSE_READ, entry.nodeid, &rd, sizeof(rd), reply, FS_READ_MAX, &err,
			&rlen);
	if (ret != 1 || err)
		return check_fail(ctx, "FUSE_READ: %s error %d", ret == 1 ? "" : call_error(ret),
				  err);
	if (cmdline_is("fsbench", "1")) {
		uint64_t chunk = 128 * 1024, done = 0;

		cmdline_get_u64("fschunk", &chunk);
		printf("SVTEST FSBENCH-START size %lu chunk %lu\n", entry.attr.size, chunk);
		if (fs_bench(&req, entry.nodeid, open.fh, entry.attr.size, (uint32_t)chunk, &done) <
		    0)
			return check_fail(ctx, "FUSE_READ at offset %lu failed", done);
		printf("SVTEST FSBENCH-END bytes %lu\n", done);
	}
	reply[rlen < FS_READ_MAX ? rlen : FS_READ_MAX - 1] = 0;
	for (uint32_t i = 0; reply[i]; i++)
		if (reply[i] < 0x20 || reply[i] > 0x7e)
			reply[i] = '.';
	printf("INFO virtio_fs tag '%s' fuse %u.%u %s size %lu mode 0x%x read %u '%s'\n", tag,
	       major, minor, name, entry.attr.size, entry.attr.mode, rlen, (char *)reply);
	vio_reset(&d);
	return CHECK_PASS;

expected_failure:
	printf("INFO virtio_fs broken back end: status 0x%x\n", vio_status(&d));
	vio_reset(&d);
	return CHECK_PASS;
}

DEFINE_CHECK(virtio_fs, check_virtio_fs, false);
