// SPDX-License-Identifier: MulanPSL-2.0
/*
 * libFuzzer targets for the configuration module.  Built as-is, the input is
 * a command line: split on NUL, space and newline into argv and parsed, then
 * validated.  Built with -DFUZZ_CONFIG_JSON, the input is a JSON document.
 *
 *   clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_config.c $(config sources) -ljansson -o fuzz_config
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define FUZZ_MAX_ARGS 64

#ifdef FUZZ_CONFIG_JSON
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	char err[256];
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_init(&cfg);
	if (!config_parse_json_text(&cfg, text, err, sizeof(err)))
		config_validate(&cfg, err, sizeof(err));
	config_free(&cfg);
	free(text);
	return 0;
}
#else
static bool is_sep(char c)
{
	return c == '\0' || c == ' ' || c == '\n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_ARGS + 1];
	enum config_action action;
	struct vm_config cfg;
	char err[256];
	size_t i = 0;
	char *buf;
	int argc = 0;

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = (char *)"stratovirt";
	while (i < size && argc < FUZZ_MAX_ARGS) {
		while (i < size && is_sep(buf[i]))
			buf[i++] = '\0';
		if (i >= size)
			break;
		argv[argc++] = &buf[i];
		while (i < size && !is_sep(buf[i]))
			i++;
		if (i < size)
			buf[i++] = '\0';
	}
	argv[argc] = NULL;
	/* -config would read files named by the input; JSON has its own target */
	for (int k = 1; k < argc; k++)
		if (strstr(argv[k], "config"))
			goto out;
	config_init(&cfg);
	if (!config_parse_cmdline(&cfg, argc, argv, &action, err, sizeof(err)) &&
	    action == CONFIG_RUN)
		config_validate(&cfg, err, sizeof(err));
	if (strchr(err, '\n'))
		abort(); /* the one-line rule */
	config_free(&cfg);
out:
	free(buf);
	return 0;
}
#endif
