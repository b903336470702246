// SPDX-License-Identifier: MulanPSL-2.0
/*
 * QEMU-style "key=value,key=value" lists and the value checkers that every
 * option shares, so that each bad value is reported the same way.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "config/config_internal.h"

struct errbuf {
	char *buf;
	size_t len, pos;
};

static void put_ch(struct errbuf *b, char c)
{
	if (b->pos + 1 < b->len) {
		b->buf[b->pos++] = c;
		b->buf[b->pos] = '\0';
	}
}

static void put_str(struct errbuf *b, const char *s)
{
	while (*s)
		put_ch(b, *s++);
}

/*
 * A value echoed from the user: control characters become \xNN so that the
 * message stays one harmless line, and a long value is cut (not inside a
 * UTF-8 sequence) and ends in "...".
 */
static void put_value(struct errbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), cut = n;

	if (n > CFG_ECHO_MAX) {
		cut = CFG_ECHO_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			put_str(b, "\\x");
			put_ch(b, hex[c >> 4]);
			put_ch(b, hex[c & 0xf]);
		} else {
			put_ch(b, (char)c);
		}
	}
	if (cut < n)
		put_str(b, "...");
}

size_t cfg_quote(char *dst, size_t len, const char *s)
{
	struct errbuf b = {dst, len, 0};

	if (!dst || !len)
		return 0;
	dst[0] = '\0';
	put_value(&b, s ? s : "(null)");
	return b.pos;
}

/*
 * The conversions the messages of this module use: %s (a value, quoted by
 * put_value()), %c, %d, %u, %x with l, ll or z, and %%.
 */
static void format_err(struct errbuf *b, const char *fmt, va_list ap)
{
	char num[32];
	int lng;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put_ch(b, *p);
			continue;
		}
		p++;
		lng = 0;
		if (*p == 'z') {
			lng = 3;
			p++;
		}
		while (*p == 'l' && lng < 2) {
			lng++;
			p++;
		}
		switch (*p) {
		case '%':
			put_ch(b, '%');
			continue;
		case 's': {
			const char *v = va_arg(ap, const char *);

			put_value(b, v ? v : "(null)");
			continue;
		}
		case 'c':
			put_value(b, (char[]){(char)va_arg(ap, int), '\0'});
			continue;
		case 'd':
			if (lng == 2)
				snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
			else if (lng == 1)
				snprintf(num, sizeof(num), "%ld", va_arg(ap, long));
			else if (lng == 3)
				snprintf(num, sizeof(num), "%zd", va_arg(ap, ssize_t));
			else
				snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			break;
		case 'u':
		case 'x': {
			unsigned long long v;

			if (lng == 2)
				v = va_arg(ap, unsigned long long);
			else if (lng == 1)
				v = va_arg(ap, unsigned long);
			else if (lng == 3)
				v = va_arg(ap, size_t);
			else
				v = va_arg(ap, unsigned);
			snprintf(num, sizeof(num), *p == 'x' ? "%llx" : "%llu", v);
			break;
		}
		default:
			/* a conversion this module never uses: stop rather than misread */
			put_str(b, "?");
			return;
		}
		put_str(b, num);
	}
}

int cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	struct errbuf b = {err, errlen, 0};
	va_list ap;

	if (err && errlen) {
		err[0] = '\0';
		va_start(ap, fmt);
		format_err(&b, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int cfg_nomem(char *err, size_t errlen)
{
	cfg_err(err, errlen, "out of memory");
	return -ENOMEM;
}

int cfg_set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src) {
		copy = strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int cfg_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes"};
	static const char *const no[] = {"off", "false", "no"};
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cfg_parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hexval(s[i * 3]);
		lo = hexval(s[i * 3 + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 && s[i * 3 + 2] != ':')
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* a NIC needs a unicast address */
	if (mac[0] & 1)
		return -EINVAL;
	return 0;
}

int cfg_check_uuid(const char *s)
{
	static const int group[] = {8, 4, 4, 4, 12};
	int g, i;

	for (g = 0; g < 5; g++) {
		for (i = 0; i < group[g]; i++, s++)
			if (hexval(*s) < 0)
				return -EINVAL;
		if (g < 4 && *s++ != '-')
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}

int cfg_parse_fd_list(const char *s, int *fds, int max, int *nr)
{
	const char *p = s;
	uint64_t v;
	char num[24];
	size_t len;
	int n = 0;

	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		len = strcspn(p, ":");
		if (len == 0 || len >= sizeof(num) || n >= max)
			return -EINVAL;
		memcpy(num, p, len);
		num[len] = '\0';
		if (cfg_parse_u64(num, &v) || v > INT_MAX)
			return -EINVAL;
		fds[n++] = (int)v;
		if (!p[len])
			break;
		p += len + 1;
	}
	*nr = n;
	return 0;
}

int config_parse_size(const char *s, unsigned default_shift, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = default_shift;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]) || default_shift >= 64)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k':
			shift = 10;
			break;
		case 'm':
			shift = 20;
			break;
		case 'g':
			shift = 30;
			break;
		case 't':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* "256MB", "1GiB" are common spellings of the same thing */
		if (!strcasecmp(end, "b") || !strcasecmp(end, "ib"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int cfg_parse_mem(const char *s, uint64_t *out, bool *bytes)
{
	uint64_t v;
	int ret;

	*bytes = false;
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[strlen(s) - 1])) {
		ret = cfg_parse_u64(s, &v);
		if (ret)
			return ret;
		*bytes = v >= CFG_MEM_BYTES_FROM;
		*out = *bytes ? v : v << 20;
		return 0;
	}
	return config_parse_size(s, 0, out);
}

static int kv_split(struct kvlist *kv, const char *text, const char *default_key)
{
	const char *opt = kv->opt;
	char *err = kv->err;
	size_t errlen = kv->errlen;
	char *r, *w, *start;
	struct kv_item *it;
	int i;

	/* split in place; ",," collapses to a literal comma */
	r = w = start = kv->buf;
	for (;;) {
		if (*r == ',' && r[1] == ',') {
			*w++ = ',';
			r += 2;
			continue;
		}
		if (*r && *r != ',') {
			*w++ = *r++;
			continue;
		}
		bool last = !*r;

		*w = '\0';
		if (!*start)
			return cfg_err(err, errlen, "empty item in '%s' for %s", text, opt);
		if (kv->n >= KV_MAX_ITEMS)
			return cfg_err(err, errlen, "too many items in '%s' for %s", text, opt);
		it = &kv->items[kv->n];
		it->val = strchr(start, '=');
		if (it->val) {
			*it->val++ = '\0';
			it->key = start;
			if (!*it->key)
				return cfg_err(err, errlen, "empty key in '%s' for %s", text, opt);
		} else if (kv->n == 0 && default_key) {
			it->key = (char *)default_key;
			it->val = start;
		} else {
			it->key = start;
		}
		for (i = 0; i < kv->n; i++)
			if (!strcmp(kv->items[i].key, it->key))
				return cfg_err(err, errlen, "key '%s' given twice for %s", it->key,
					       opt);
		kv->n++;
		if (last)
			break;
		r++;
		w = start = r;
	}
	return 0;
}

int kv_parse(struct kvlist *kv, const char *opt, const char *text, const char *default_key,
	     char *err, size_t errlen)
{
	int ret;

	memset(kv, 0, sizeof(*kv));
	kv->opt = opt;
	kv->text = text;
	kv->err = err;
	kv->errlen = errlen;
	kv->buf = strdup(text);
	if (!kv->buf)
		return cfg_nomem(err, errlen);
	ret = kv_split(kv, text, default_key);
	if (ret)
		kv_free(kv);
	return ret;
}

void kv_free(struct kvlist *kv)
{
	free(kv->buf);
	kv->buf = NULL;
	kv->n = 0;
}

static struct kv_item *kv_find(struct kvlist *kv, const char *key)
{
	int i;

	for (i = 0; i < kv->n; i++)
		if (!strcmp(kv->items[i].key, key))
			return &kv->items[i];
	return NULL;
}

bool kv_has(struct kvlist *kv, const char *key)
{
	return kv_find(kv, key) != NULL;
}

const char *kv_get(struct kvlist *kv, const char *key)
{
	struct kv_item *it = kv_find(kv, key);

	if (!it)
		return NULL;
	it->used = true;
	return it->val ? it->val : "";
}

int kv_bad(struct kvlist *kv, const char *key, const char *val, const char *why)
{
	return cfg_err(kv->err, kv->errlen, "invalid value '%s' for %s %s: %s", val, kv->opt, key,
		       why);
}

int kv_str(struct kvlist *kv, const char *key, char **dst, bool required)
{
	struct kv_item *it = kv_find(kv, key);

	if (!it) {
		if (required)
			return cfg_err(kv->err, kv->errlen, "%s needs %s= (in '%s')", kv->opt, key,
				       kv->text);
		return 0;
	}
	it->used = true;
	if (!it->val || !*it->val)
		return cfg_err(kv->err, kv->errlen, "missing value for %s %s", kv->opt, key);
	if (cfg_set_str(dst, it->val))
		return cfg_nomem(kv->err, kv->errlen);
	return 0;
}

int kv_bool(struct kvlist *kv, const char *key, bool *out)
{
	struct kv_item *it = kv_find(kv, key);

	if (!it)
		return 0;
	it->used = true;
	/* a bare "server" means server=on */
	if (!it->val) {
		*out = true;
		return 0;
	}
	if (cfg_parse_bool(it->val, out))
		return kv_bad(kv, key, it->val, "must be on or off");
	return 0;
}

int kv_u64(struct kvlist *kv, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	struct kv_item *it = kv_find(kv, key);
	char why[64];
	uint64_t v;

	if (!it)
		return 0;
	it->used = true;
	snprintf(why, sizeof(why), "must be %llu..%llu", (unsigned long long)min,
		 (unsigned long long)max);
	if (!it->val)
		return kv_bad(kv, key, "", why);
	if (cfg_parse_u64(it->val, &v) || v < min || v > max)
		return kv_bad(kv, key, it->val, why);
	*out = v;
	return 0;
}

int kv_check_unused(struct kvlist *kv)
{
	int i;

	for (i = 0; i < kv->n; i++)
		if (!kv->items[i].used)
			return cfg_err(kv->err, kv->errlen, "unknown key '%s' for %s",
				       kv->items[i].key, kv->opt);
	return 0;
}
