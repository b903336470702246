/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef SV_CONFIG_CONFIG_H
#define SV_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_DRIVES	  16
#define CFG_MAX_NETS	  8
#define CFG_MAX_CHARDEVS  16
#define CFG_MAX_CONSOLES  8
#define CFG_MAX_IOTHREADS 8
#define CFG_MAX_FDS	  8
#define CFG_MAX_CPU_FLAGS 32
#define CFG_MAX_CPUS	  254
#define CFG_MAX_FS	  4
#define CFG_FS_TAG_MAX	  36 /* virtio-fs config tag[36] */
#define CFG_MIN_MEM	  (128ULL << 20)
#define CFG_MAX_MEM	  (512ULL << 30)
#define CFG_DEFAULT_MEM	  (256ULL << 20)

/*
 * virtio-mmio transports: 16 windows (LAYOUT_VIRTIO_MMIO_MAX).  virtio-blk
 * always takes at least CFG_BLK_SLOTS of them and virtio-net at least
 * CFG_NET_SLOTS (empty hot-replace slots, src/virtio/blk.h and net.h); each
 * console, the rng and the balloon take one more.
 */
#define CFG_MAX_VIRTIO_DEVS 16
#define CFG_BLK_SLOTS	    4
#define CFG_NET_SLOTS	    2

/* -device isa-debug-exit: the one port range it may have */
#define CFG_DEBUG_EXIT_IOBASE 0xf4
#define CFG_DEBUG_EXIT_IOSIZE 4

enum chardev_kind { CHR_NONE = 0, CHR_STDIO, CHR_PTY, CHR_FILE, CHR_SOCKET };

struct chardev_config {
	char *id; /* NULL for an anonymous backend (e.g. -serial stdio) */
	enum chardev_kind kind;
	char *path;
	bool server;
	bool nowait;
};

struct drive_config {
	char *id;
	char *path;
	bool readonly;
	bool direct;
	char *serial;
	char *iothread;
	uint64_t iops;	 /* 0: unlimited */
	char *aio;	 /* "native", "io_uring", "off" or NULL */
	bool has_device; /* v2: attached by -device virtio-blk-device (or early -drive) */
	char *device_id;
};

struct net_config {
	char *id;
	char *ifname; /* tap name, or NULL when fds given */
	int fds[CFG_MAX_FDS];
	int nr_fds;
	bool has_mac;
	uint8_t mac[6];
	char *iothread;
	bool has_device;
	char *device_id;
	bool vhost;		   /* vhost=on (or vhostfd= given) */
	int vhostfds[CFG_MAX_FDS]; /* inherited vhost-net fds; the first is used */
	int nr_vhostfds;
};

/* -device vhost-user-fs-device: a virtiofsd reached through a socket chardev */
struct fs_config {
	char *id;
	char *tag;
	char *chardev; /* a client socket chardev (virtiofsd listens) */
	unsigned queue_size;
};

struct console_config {
	char *id;      /* device id */
	char *chardev; /* chardev id; resolved to a socket chardev */
};

/* -jail and -rlimit (docs/security.md) */
#define CFG_JAIL_DIR_MAX 4096
struct jail_config {
	char dir[CFG_JAIL_DIR_MAX]; /* "" when there is no jail */
	bool has_uid, has_gid;
	uint32_t uid, gid;
	bool netns, pidns, mountns;
	bool has_nofile, has_memlock;
	uint64_t nofile, memlock; /* memlock in bytes */
};

struct vm_config {
	char *name;
	char *uuid;

	/* machine */
	bool dump_guest_core;
	bool mem_share;
	bool acpi; /* describe devices in ACPI (default on) */

	/* cpus */
	unsigned nr_cpus;
	unsigned max_cpus;
	unsigned sockets, dies, clusters, cores, threads;
	char *cpu_model;		   /* "host" or NULL */
	char *cpu_hide[CFG_MAX_CPU_FLAGS]; /* -cpu host,-feat or feat=off */
	int nr_cpu_hide;
	char *cpu_need[CFG_MAX_CPU_FLAGS]; /* -cpu host,+feat or feat=on: the host must offer it */
	int nr_cpu_need;

	/* memory */
	uint64_t mem_size;
	char *mem_path;
	bool mem_prealloc;

	/* boot */
	char *kernel;
	char *initrd;
	char *cmdline;

	/* devices */
	struct chardev_config serial; /* kind CHR_NONE when absent */
	struct chardev_config chardevs[CFG_MAX_CHARDEVS];
	int nr_chardevs;
	struct drive_config drives[CFG_MAX_DRIVES];
	int nr_drives;
	struct net_config nets[CFG_MAX_NETS];
	int nr_nets;
	struct console_config consoles[CFG_MAX_CONSOLES];
	int nr_consoles;
	struct fs_config fs[CFG_MAX_FS];
	int nr_fs;
	bool has_virtio_serial;
	bool has_rng;
	char *rng_id; /* -device virtio-rng-device id, else the -object id */
	char *rng_file;
	const char *rng_opt;	    /* where rng_file came from, for messages */
	uint64_t rng_bytes_per_sec; /* 0: unlimited */
	bool has_vsock;
	char *vsock_id;
	uint64_t vsock_cid;
	int vsock_fd;	      /* -1 */
	char *vsock_uds;      /* virtio-vsock-device uds-path: the user-space vsock */
	char *vsock_iothread; /* virtio-vsock-device iothread= */
	const char *vsock_opt;
	bool has_balloon;
	bool balloon_deflate_on_oom;
	bool balloon_free_page_reporting;
	const char *balloon_opt;
	bool debug_exit; /* -device isa-debug-exit: port 0xf4 ends the VM */
	char *iothreads[CFG_MAX_IOTHREADS];
	int nr_iothreads;

	/* control */
	char *qmp_path; /* unix socket path, NULL when none */
	char *incoming;

	/* process */
	bool log_enabled; /* -D given */
	char *log_file;	  /* -D FILE; NULL = stderr */
	char *pidfile;
	bool daemonize;
	bool disable_seccomp;
	struct jail_config jail;
	bool start_paused;
	char *config_file;
};

/* Sets the defaults (256 MiB, 1 vCPU, ACPI on, fds -1). */
void config_init(struct vm_config *cfg);
void config_free(struct vm_config *cfg);

enum config_action { CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION };

/*
 * Parses argv (argv[0] is the program) into cfg.  On a bad option or value
 * returns -EINVAL with one line in err naming the option and the value.  A
 * -config FILE is read in place; options after it override it.
 */
int config_parse_cmdline(struct vm_config *cfg, int argc, char **argv, enum config_action *action,
			 char *err, size_t errlen);
/* Parses a JSON configuration (early StratoVirt format). */
int config_parse_json_text(struct vm_config *cfg, const char *text, char *err, size_t errlen);
int config_parse_json_file(struct vm_config *cfg, const char *path, char *err, size_t errlen);
/*
 * Cross-option checks once everything is parsed (kernel given, topology, ids,
 * device counts, the rng file), then config_refuse_unsupported().
 */
int config_validate(struct vm_config *cfg, char *err, size_t errlen);
/* -EINVAL for an option that is parsed but not implemented yet. */
int config_refuse_unsupported(const struct vm_config *cfg, char *err, size_t errlen);

/* Size with optional K/M/G/T suffix; bare number = default_shift units. */
int config_parse_size(const char *s, unsigned default_shift, uint64_t *out);

/* A unicast MAC address, aa:bb:cc:dd:ee:ff (exactly 17 characters); -EINVAL otherwise. */
int cfg_parse_mac(const char *s, uint8_t mac[6]);

void config_print_help(void);

#endif
