/* Small helpers shared by the core's tests: temporary folders, files, and
 * running the CLI as a subprocess. */
#ifndef AIGTATT_TEST_HELPERS_H
#define AIGTATT_TEST_HELPERS_H

#include <stddef.h>

/** A fresh folder under /tmp (malloc'ed path). */
char *th_tmpdir(void);
/** Writes text to dir/name; returns the malloc'ed full path. */
char *th_write(const char *dir, const char *name, const char *text);
/** Reads a whole file (malloc'ed) or NULL. */
char *th_read(const char *path);
/** Runs `cmd` through /bin/sh with stdout+stderr captured into *out
 *  (malloc'ed); returns the exit status (or 128+signal). */
int th_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Environment values set by CTest. */
const char *th_env(const char *name);
/** "AIGTATT_PLUGIN_PATH=<fixture>/good <aigtatt>" prefix for th_sh. */
const char *th_cli(void);

#endif
