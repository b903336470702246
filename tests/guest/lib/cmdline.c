// SPDX-License-Identifier: MulanPSL-2.0
/* The guest's command line: space-separated key=value tokens. */
#include "lib/cmdline.h"
#include "lib/string.h"

static char line[CMDLINE_MAX];

void cmdline_init(const char *src)
{
	if (src)
		strlcpy(line, src, sizeof(line));
	else
		line[0] = '\0';
}

const char *cmdline(void)
{
	return line;
}

/* Calls fn for each token; stops when fn returns true. */
static const char *find_token(bool (*match)(const char *tok, size_t len, const void *arg),
			      const void *arg, size_t *len_out)
{
	const char *p = line;

	while (*p) {
		size_t len = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		while (p[len] && p[len] != ' ' && p[len] != '\t' && p[len] != '\n')
			len++;
		if (len && match(p, len, arg)) {
			*len_out = len;
			return p;
		}
		p += len;
	}
	return NULL;
}

static bool match_key(const char *tok, size_t len, const void *arg)
{
	const char *key = arg;
	size_t klen = strlen(key);

	return len >= klen && !strncmp(tok, key, klen) && (len == klen || tok[klen] == '=');
}

static bool match_whole(const char *tok, size_t len, const void *arg)
{
	const char *want = arg;

	return strlen(want) == len && !strncmp(tok, want, len);
}

bool cmdline_get(const char *key, char *val, size_t len)
{
	size_t tlen, klen = strlen(key), vlen;
	const char *tok = find_token(match_key, key, &tlen);

	if (!tok)
		return false;
	vlen = tlen > klen ? tlen - klen - 1 : 0;
	if (len) {
		if (vlen > len - 1)
			vlen = len - 1;
		memcpy(val, tok + klen + (tlen > klen), vlen);
		val[vlen] = '\0';
	}
	return true;
}

bool cmdline_has_token(const char *token)
{
	size_t tlen;

	return find_token(match_whole, token, &tlen) != NULL;
}

bool cmdline_is(const char *key, const char *value)
{
	char buf[64];

	return cmdline_get(key, buf, sizeof(buf)) && !strcmp(buf, value);
}

bool cmdline_get_u64(const char *key, uint64_t *out)
{
	const char *end;
	char buf[32];

	if (!cmdline_get(key, buf, sizeof(buf)) || !buf[0])
		return false;
	*out = parse_u64(buf, &end);
	return true;
}

bool cmdline_list_has(const char *key, const char *item)
{
	char buf[256];
	size_t ilen = strlen(item);
	const char *p;

	if (!cmdline_get(key, buf, sizeof(buf)))
		return false;
	for (p = buf; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == ilen && !strncmp(p, item, n))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}
