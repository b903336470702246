// SPDX-License-Identifier: MulanPSL-2.0
/*
 * blockdev-add/blockdev-del and device_add/device_del of virtio-blk: block
 * nodes are recorded here; device_add puts a node into a hot-replace slot
 * (blk_slot_attach opens, locks and sizes the image), device_del empties the
 * slot and forgets its node, so the image fd and its lock are gone with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "machine/vm.h"
#include "qmp/commands.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/qmp_devices.h"

#define MAX_NODES 16
#define MAX_PLUGS (CFG_MAX_DRIVES + BLK_NR_SLOTS)

struct blk_node {
	struct drive_config d; /* d.id is the node name; NULL: free entry */
	int slot;	       /* -1 when no device uses it */
};

static struct blk_node nodes[MAX_NODES];
static struct qmp_plug plugs[MAX_PLUGS]; /* backend: the node, index: into nodes[] */
static bool plugs_ready;

/* The command line's disks fill the first slots in order (blk_init). */
static void plugs_init(struct vm *vm)
{
	const struct vm_config *cfg = vm ? vm->cfg : NULL;
	int k = 0;

	if (plugs_ready)
		return;
	plugs_ready = true;
	for (int i = 0; i < MAX_PLUGS; i++)
		plugs[i].index = -1;
	for (int i = 0; cfg && i < cfg->nr_drives && k < MAX_PLUGS; i++) {
		const struct drive_config *d = &cfg->drives[i];

		if (!d->has_device)
			continue;
		plugs[k].dev_id = strdup(d->device_id ? d->device_id : d->id);
		plugs[k].backend = strdup(d->id);
		k++;
	}
}

static void node_free(struct blk_node *n)
{
	free(n->d.id);
	free(n->d.path);
	free(n->d.aio);
	free(n->d.serial);
	free(n->d.device_id);
	memset(n, 0, sizeof(*n));
	n->slot = -1;
}

void qmp_blk_cleanup(void)
{
	for (int i = 0; i < MAX_NODES; i++)
		node_free(&nodes[i]);
	for (int i = 0; i < MAX_PLUGS; i++)
		qmp_plug_clear(&plugs[i]);
	plugs_ready = false;
}

static int node_find(const char *name)
{
	for (int i = 0; i < MAX_NODES; i++)
		if (nodes[i].d.id && !strcmp(nodes[i].d.id, name))
			return i;
	return -1;
}

static int plug_find_node(const char *name)
{
	return qmp_plug_find(plugs, MAX_PLUGS, name, true);
}

static int plug_find_device(const char *id)
{
	return qmp_plug_find(plugs, MAX_PLUGS, id, false);
}

bool qmp_blk_has_device(struct vm *vm, const char *id)
{
	plugs_init(vm);
	return plug_find_device(id) >= 0;
}

/* Checks a nested object against spec; the error names "outer.key". */
static int check_nested(struct qmp_req *r, const char *outer, const char *spec, json_t *obj)
{
	struct qmp_req sub = {.vm = r->vm};

	if (qmp_check_args(&sub, spec, obj) == 0)
		return 0;
	return qmp_fail(r, QMP_ERR_GENERIC, "%s (in '%s')", sub.err, outer);
}

/* The image must exist, be of the kind file.driver names, and not be locked by anyone. */
static int check_image(struct qmp_req *r, const char *path, bool host_device, bool readonly)
{
	struct flock fl = {.l_type = readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
	struct stat st;
	int fd;

	if (!*path)
		return qmp_fail(r, QMP_ERR_GENERIC, "Invalid parameter 'file.filename': empty");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'file.filename': cannot open '%s': %s", path,
				strerror(err));
	}
	if (host_device ? !S_ISBLK(st.st_mode) : !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'file.filename': '%s' is not a %s", path,
				host_device ? "block device (file.driver host_device)"
					    : "regular file or block device");
	}
	if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		close(fd);
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'file.filename': '%s' is locked by another "
				"process (in use by another VM?)",
				path);
	}
	close(fd);
	return 0;
}

int qmp_cmd_blockdev_add(struct qmp_req *r)
{
	const char *name = qmp_arg_str(r, "node-name");
	const char *driver = qmp_arg_str(r, "driver");
	const char *discard = qmp_arg_str(r, "discard");
	json_t *file = json_object_get(r->args, "file");
	json_t *cache = json_object_get(r->args, "cache");
	const char *fdriver, *path, *aio;
	struct blk_node *n = NULL;
	bool readonly;

	if (!qmp_id_ok(name))
		return qmp_fail(
		    r, QMP_ERR_GENERIC,
		    "Invalid parameter 'node-name': '%s' must be 1..%d letters, digits, "
		    "'-', '.' or '_'",
		    name, QMP_ID_MAX);
	if (driver && strcmp(driver, "raw"))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'driver': '%s' is not supported (raw)", driver);
	if (discard && strcmp(discard, "unmap") && strcmp(discard, "ignore"))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'discard': '%s' (unmap or ignore)", discard);
	if (check_nested(r, "file", "driver:s,filename:s,aio:s?,locking:s?", file) < 0 ||
	    (cache && check_nested(r, "cache", "direct:b?,no-flush:b?", cache) < 0))
		return -1;
	fdriver = json_string_value(json_object_get(file, "driver"));
	path = json_string_value(json_object_get(file, "filename"));
	aio = json_string_value(json_object_get(file, "aio"));
	if (strcmp(fdriver, "file") && strcmp(fdriver, "host_device"))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'file.driver': '%s' is not supported (file, "
				"host_device)",
				fdriver);
	if (aio && strcmp(aio, "native") && strcmp(aio, "io_uring") && strcmp(aio, "threads") &&
	    strcmp(aio, "off"))
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'file.aio': '%s' (native, io_uring, threads, "
				"off)",
				aio);
	plugs_init(r->vm);
	if (node_find(name) >= 0 || plug_find_node(name) >= 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "Duplicate node-name '%s'", name);
	readonly = qmp_arg_bool(r, "read-only", false);
	if (check_image(r, path, !strcmp(fdriver, "host_device"), readonly) < 0)
		return -1;
	for (int i = 0; i < MAX_NODES && !n; i++)
		if (!nodes[i].d.id)
			n = &nodes[i];
	if (!n)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"blockdev-add: more than %d block nodes; blockdev-del some first",
				MAX_NODES);
	n->d.id = strdup(name);
	n->d.path = strdup(path);
	n->d.aio = aio && strcmp(aio, "threads") ? strdup(aio) : NULL;
	n->d.readonly = readonly;
	n->d.direct = cache && json_is_true(json_object_get(cache, "direct"));
	n->slot = -1;
	if (!n->d.id || !n->d.path) {
		node_free(n);
		return qmp_fail(r, QMP_ERR_GENERIC, "blockdev-add: out of memory");
	}
	return 0;
}

int qmp_cmd_blockdev_del(struct qmp_req *r)
{
	const char *name = qmp_arg_str(r, "node-name");
	int i = node_find(name), p;

	plugs_init(r->vm);
	p = plug_find_node(name);
	if (p >= 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Block node '%s' is in use by device '%s'; device_del it first",
				name, plugs[p].dev_id);
	if (i < 0)
		return qmp_fail(r, QMP_ERR_DEVICE_NOT_FOUND, "Block node '%s' not found", name);
	node_free(&nodes[i]);
	return 0;
}

int qmp_blk_device_add(struct qmp_req *r, const char *id, int slot)
{
	const char *drive = qmp_arg_str(r, "drive");
	const char *serial = qmp_arg_str(r, "serial");
	int count = blk_slot_count(), i, ret;
	struct drive_config d;
	char why[512];

	plugs_init(r->vm);
	if (!drive)
		return qmp_fail(r, QMP_ERR_GENERIC, "Parameter 'drive' is missing");
	if (plug_find_node(drive) >= 0)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'drive': block node '%s' is already in use by "
				"device '%s'",
				drive, plugs[plug_find_node(drive)].dev_id);
	i = node_find(drive);
	if (i < 0)
		return qmp_fail(
		    r, QMP_ERR_DEVICE_NOT_FOUND,
		    "Invalid parameter 'drive': block node '%s' not found (blockdev-add "
		    "it first)",
		    drive);
	if (serial && strlen(serial) > 20)
		return qmp_fail(r, QMP_ERR_GENERIC,
				"Invalid parameter 'serial': longer than 20 characters");
	slot = qmp_plug_pick(r, plugs, count < MAX_PLUGS ? count : MAX_PLUGS, slot, "virtio-blk");
	if (slot < 0)
		return -1;
	d = nodes[i].d;
	d.serial = (char *)serial;
	d.device_id = (char *)id;
	user_err_capture(why, sizeof(why));
	ret = blk_slot_attach(r->vm, slot, &d);
	user_err_capture(NULL, 0);
	if (ret == -EBUSY && !why[0])
		return qmp_fail(r, QMP_ERR_GENERIC, "Invalid parameter 'addr': slot %d is in use",
				slot);
	if (ret < 0)
		return qmp_fail(r, QMP_ERR_GENERIC, "device_add '%s': %s", id,
				why[0] ? why : strerror(-ret));
	plugs[slot].dev_id = strdup(id);
	plugs[slot].backend = strdup(drive);
	plugs[slot].index = i;
	nodes[i].slot = slot;
	return 0;
}

int qmp_blk_device_del(struct qmp_req *r, const char *id)
{
	int slot, ret;

	plugs_init(r->vm);
	slot = plug_find_device(id);
	if (slot < 0)
		return 1;
	ret = blk_slot_detach(r->vm, slot);
	if (ret < 0 && ret != -ENOENT)
		return qmp_fail(r, QMP_ERR_GENERIC, "device_del '%s': %s", id, strerror(-ret));
	/* the node goes with its device, as StratoVirt does: Kata sends no blockdev-del */
	if (plugs[slot].index >= 0)
		node_free(&nodes[plugs[slot].index]);
	qmp_plug_clear(&plugs[slot]);
	qmp_device_deleted(id);
	return 0;
}
