/* Helpers of the provider tests: a test folder with the fake API running,
 * experiment files, the CLI as a subprocess, manifests and key searches. */
#ifndef AIGTATT_TEST_PH_H
#define AIGTATT_TEST_PH_H

#include <jansson.h>
#include <stddef.h>

#include "provider/fake_api.h"

/* The canary API key: it must never show in a file or a printed line. */
#define PH_CANARY "r8_CANARY0c0ffee5ecret9d41"
#define PH_CANARY_TAIL "0c0ffee5ecret9d41"

extern char ph_dir[256];   /* the test folder (the CLI runs in it) */
extern fake_api *ph_fa;    /* the fake server */

/* mkdtemp + fake server; and the reverse. */
void ph_setup(void);
void ph_teardown(void);

/* Writes dir/name. */
void ph_write(const char *name, const char *text);
/* prompts.txt with n lines "tattoo prompt number i: ..." */
void ph_prompts(int n);
/* Reads dir/rel (or an absolute path); NULL if absent. */
char *ph_read(const char *rel, size_t *len);

/* "http://127.0.0.1:<port>/v1" */
const char *ph_base(void);

/* Runs `env <envs> $AIGTATT_BIN <args>` in the test folder with stdout
 * and stderr in *out (malloc'ed); returns the exit status; *secs the wall
 * time (may be NULL). */
int ph_cli(char **out, double *secs, const char *envs, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Shell command in the test folder. */
int ph_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Lines of a manifest (dir-relative path), parsed; NULL if absent. */
json_t *ph_manifest(const char *rel);

/* Non-zero if any file under dir/rel contains `needle` (grep -r). */
int ph_tree_has(const char *rel, const char *needle);

/* The node seed from <workdir>/latest/lock.json. */
unsigned long long ph_node_seed(const char *workdir, const char *node);

#endif
