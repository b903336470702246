/* SPDX-License-Identifier: MulanPSL-2.0 */
#ifndef TEST_CONFIG_HELPERS_H
#define TEST_CONFIG_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"

/*
 * Splits line on spaces into argv (words in single quotes keep their spaces)
 * and parses it; the config and the error are left for the test to check.
 */
struct parsed {
	struct vm_config cfg;
	enum config_action action;
	char err[512];
	int ret;
};

static inline int parse_line(struct parsed *p, const char *line)
{
	char *argv[128], *buf = strdup(line), *r = buf, *w;
	int argc = 0;

	argv[argc++] = (char *)"stratovirt";
	while (*r) {
		while (*r == ' ')
			r++;
		if (!*r)
			break;
		argv[argc++] = w = r;
		while (*r && *r != ' ') {
			if (*r == '\'') {
				r++;
				while (*r && *r != '\'')
					*w++ = *r++;
				if (*r)
					r++;
			} else {
				*w++ = *r++;
			}
		}
		if (*r)
			r++;
		*w = '\0';
	}
	config_init(&p->cfg);
	p->err[0] = '\0';
	p->ret = config_parse_cmdline(&p->cfg, argc, argv, &p->action, p->err, sizeof(p->err));
	free(buf);
	return p->ret;
}

/* Expects parse failure with an error line containing each fragment given. */
#define assert_parse_fails(line, ...)                                                              \
	do {                                                                                       \
		struct parsed p_;                                                                  \
		const char *frags_[] = {__VA_ARGS__, NULL};                                        \
		assert_int_equal(parse_line(&p_, line), -EINVAL);                                  \
		assert_null(strchr(p_.err, '\n'));                                                 \
		for (int i_ = 0; frags_[i_]; i_++)                                                 \
			if (!strstr(p_.err, frags_[i_]))                                           \
				fail_msg("error '%s' lacks '%s' for: %s", p_.err, frags_[i_],      \
					 line);                                                    \
		config_free(&p_.cfg);                                                              \
	} while (0)

#endif
