/* File-system helpers. Everything that publishes a file or folder does it
 * atomically: write under a temporary name in the same folder, then
 * rename(2), so a crash never leaves a half artifact under the final name. */
#ifndef AIGTATT_CORE_FS_H
#define AIGTATT_CORE_FS_H

#include <stddef.h>

/** mkdir -p; 0 or an aigtatt_status with the error set. */
int aigtatt_mkdirs(const char *path);
/** Writes `data` to a temporary file next to `path`, fsyncs, renames. */
int aigtatt_write_file_atomic(const char *path, const void *data, size_t size);
/** Reads a whole file (at most `max_size` bytes, else AIGTATT_ERR_LIMIT)
 *  into a malloc'ed, NUL-terminated buffer. */
int aigtatt_read_file(const char *path, size_t max_size, char **data, size_t *size);
/** rm -rf without following symlinks; a missing path is success. */
int aigtatt_rmtree(const char *path);
/** Non-zero if `path` exists (any type; symlinks not followed). */
int aigtatt_path_exists(const char *path);
/** Non-zero if `path` is a directory (following symlinks). */
int aigtatt_is_dir(const char *path);
/** Joins two path parts with one '/' into a malloc'ed string (NULL on OOM). */
char *aigtatt_path_join(const char *a, const char *b);
/** The absolute, '/'-normalised form of `path` (relative to `base` when it
 *  is relative and base is not NULL, else to the working folder);
 *  malloc'ed, NULL on OOM. Does not touch the file system. */
char *aigtatt_path_absolute(const char *path, const char *base);
/** `path` with a leading "~" or "~/" replaced by $HOME, as the shell does
 *  for an unquoted word (callers leave quoted YAML text alone); a copy of
 *  it otherwise. malloc'ed, NULL on OOM. */
char *aigtatt_path_home(const char *path);
/** The folder part of `path` (malloc'ed; "." when there is none). */
char *aigtatt_path_dirname(const char *path);
/** Makes `to` a hard link of `from` (a copy written atomically when the
 *  two are on different file systems), creating missing parent folders.
 *  An existing `to` is an error. */
int aigtatt_link_or_copy(const char *from, const char *to);

#endif
