/* Helpers of the dataset tests: temporary folders, files, test images,
 * running the CLI, reading manifests and hashing output trees. */
#ifndef DS_HELPERS_H
#define DS_HELPERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** A fresh folder under /tmp (malloc'ed). */
char *ds_tmpdir(void);
/** Writes text to dir/name (creating dir/name's folder); malloc'ed path. */
char *ds_write(const char *dir, const char *name, const char *text);
/** Writes raw bytes to `path`. */
void ds_write_bytes(const char *path, const void *data, size_t n);
/** Reads a whole file (malloc'ed, NUL-terminated) or NULL. */
char *ds_read(const char *path);
/** Runs a shell command with stdout and stderr into *out; exit status. */
int ds_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The CLI under test (AIGTATT_BIN). */
const char *ds_cli(void);
/** Runs `aigtatt -q run <yaml> --workdir <dir>/<work> [extra]`; output
 *  into *out. */
int ds_run(char **out, const char *dir, const char *yaml, const char *work, const char *extra);
/** Absolute folder of a node's output port in the newest run of work. */
char *ds_port_dir(const char *dir, const char *work, const char *node, const char *port);
/** The records of <dir>/manifest.jsonl as a JSON array (never NULL). */
json_t *ds_manifest(const char *dir);
/** SHA-256 (hex) over every file under `dir`: relative path and bytes,
 *  in name order. `skip` (may be NULL) names files to leave out. */
void ds_tree_hash(const char *dir, const char *skip, char out[65]);
/** Writes a w x h RGB PNG: skin-coloured with dark "ink" strokes in the
 *  box (bx, by, bw, bh); `variant` changes the strokes. */
void ds_png(const char *path, int w, int h, int bx, int by, int bw, int bh, int variant);
/** Loads the plugins of AIGTATT_PLUGIN_DIR into this process (once). */
void ds_load_plugins(void);
/** Removes a folder tree. */
void ds_rmtree(const char *dir);
/** Limits this process's address space to its current size plus `above`
 *  bytes (RLIMIT_AS), so a test can show that code works in little memory.
 *  Returns 1, or 0 without limiting in sanitizer builds (they reserve
 *  terabytes of address space); fails the test if the limit cannot be set. */
int ds_limit_address_space(size_t above);

#endif
