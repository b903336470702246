/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_CONFIG_INTERNAL_H
#define SV_CONFIG_INTERNAL_H

/*
 * Shared by the files of the configuration module only: the key=value list
 * parser, value checkers and the state that the command line keeps while it
 * waits to resolve references between options (devices name their back ends,
 * and a back end may come after the device that uses it).
 */

#include <stdarg.h>

#include "config/config.h"

#define KV_MAX_ITEMS 32

/* Upstream's bounds for values that the guest never chooses. */
#define CFG_MIN_RNG_BPS 64ULL
#define CFG_MAX_RNG_BPS 1000000000ULL
#define CFG_MAX_IOPS	1000000ULL
#define CFG_MIN_CID	3ULL
#define CFG_MAX_CID	0xfffffffeULL
#define CFG_SERIAL_MAX	20 /* virtio-blk ID string */

/* Longest value echoed in a message; a longer one is cut and ends in "...". */
#define CFG_ECHO_MAX 128

/*
 * Writes one line to err and returns -EINVAL.  Every %s argument is a value
 * from the user: control characters are written as \xNN and a value longer
 * than CFG_ECHO_MAX is cut.  Conversions: %s %c %d %u %x (with l, ll, z), %%.
 */
int cfg_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes s to dst as cfg_err() echoes a value; returns the length written. */
size_t cfg_quote(char *dst, size_t len, const char *s);
/* Writes "out of memory" to err and returns -ENOMEM. */
int cfg_nomem(char *err, size_t errlen);
/* Replaces *dst with a copy of src (NULL clears it); -ENOMEM on failure. */
int cfg_set_str(char **dst, const char *src);

int cfg_parse_u64(const char *s, uint64_t *out);
int cfg_parse_bool(const char *s, bool *out);
int cfg_check_uuid(const char *s);
int cfg_parse_fd_list(const char *s, int *fds, int max, int *nr);
/* -m: a bare number is MiB unless it is CFG_MEM_BYTES_FROM or more, then bytes. */
#define CFG_MEM_BYTES_FROM (1ULL << 20)
int cfg_parse_mem(const char *s, uint64_t *out, bool *bytes);
/* Fills missing topology values and checks them against nr_cpus/max_cpus. */
int cfg_check_topology(struct vm_config *cfg, const char *opt, char *err, size_t errlen);

struct kv_item {
	char *key;
	char *val; /* NULL for a bare flag such as "server" */
	bool used;
};

struct kvlist {
	char *buf;
	const char *opt;  /* label for messages: "-drive", "-device virtio-net-device" */
	const char *text; /* the value as given, for messages */
	struct kv_item items[KV_MAX_ITEMS];
	int n;
	char *err;
	size_t errlen;
};

/*
 * Splits "a,k=v,flag" into items; ",," is a literal comma.  A first item
 * without '=' becomes the value of default_key when default_key is not NULL.
 * On failure nothing is left to free; otherwise call kv_free().
 */
int kv_parse(struct kvlist *kv, const char *opt, const char *text, const char *default_key,
	     char *err, size_t errlen);
void kv_free(struct kvlist *kv);
bool kv_has(struct kvlist *kv, const char *key);
/* Value of key (marked used), NULL when absent; a bare flag yields "". */
const char *kv_get(struct kvlist *kv, const char *key);
/* Copies the value of key into *dst when present; required: error if absent. */
int kv_str(struct kvlist *kv, const char *key, char **dst, bool required);
int kv_bool(struct kvlist *kv, const char *key, bool *out);
int kv_u64(struct kvlist *kv, const char *key, uint64_t min, uint64_t max, uint64_t *out);
/* Error for the first item no handler asked for. */
int kv_check_unused(struct kvlist *kv);
int kv_bad(struct kvlist *kv, const char *key, const char *val, const char *why);

/* Devices named on the command line, resolved once every option is read. */
struct blk_dev {
	char *drive;
	char *id;
	char *iothread;
	char *serial;
};

struct net_dev {
	char *netdev;
	char *id;
	char *iothread;
	bool has_mac;
	uint8_t mac[6];
};

struct con_dev {
	char *chardev;
	char *id;
};

struct rng_obj {
	char *id;
	char *filename;
};

#define CTX_MAX_RNG_OBJS 4
#define CTX_MAX_DEV_IDS	 64

struct parse_ctx {
	struct vm_config *cfg;
	char *err;
	size_t errlen;

	struct blk_dev blk[CFG_MAX_DRIVES];
	int nr_blk;
	struct net_dev net[CFG_MAX_NETS];
	int nr_net;
	struct con_dev con[CFG_MAX_CONSOLES];
	int nr_con;
	struct rng_obj rng_objs[CTX_MAX_RNG_OBJS];
	int nr_rng_objs;
	bool has_rng_dev;
	char *rng_dev_rng;
	char *rng_dev_id;
	uint64_t rng_dev_bps;

	/* early "-chardev id=..,path=.." is a console unless something uses it */
	bool chardev_early[CFG_MAX_CHARDEVS];
	char *mon_chardev;
	char *serial_chardev;

	char *dev_ids[CTX_MAX_DEV_IDS];
	int nr_dev_ids;
};

void ctx_free(struct parse_ctx *ctx);
/* Records a -device id; -EINVAL on a duplicate. */
int ctx_add_dev_id(struct parse_ctx *ctx, const char *opt, const char *id);

int opt_drive(struct parse_ctx *ctx, const char *arg);
int opt_netdev(struct parse_ctx *ctx, const char *arg);
int opt_device(struct parse_ctx *ctx, const char *arg);
int opt_object(struct parse_ctx *ctx, const char *arg);
int opt_iothread(struct parse_ctx *ctx, const char *arg);
int opt_rng(struct parse_ctx *ctx, const char *arg);
int opt_balloon(struct parse_ctx *ctx, const char *arg);
int opt_chardev(struct parse_ctx *ctx, const char *arg);
/* Joins devices with back ends once every option has been read. */
int ctx_resolve(struct parse_ctx *ctx);

int cfg_find_chardev(const struct vm_config *cfg, const char *id);
int cfg_find_drive(const struct vm_config *cfg, const char *id);
int cfg_find_net(const struct vm_config *cfg, const char *id);
int cfg_find_iothread(const struct vm_config *cfg, const char *id);
int cfg_add_iothread(struct vm_config *cfg, const char *opt, const char *id, char *err,
		     size_t errlen);

#endif
