/* Helpers of the tests that drive the aigtatt CLI on embeddings files:
 * shell commands with their output, files, and a synthetic tattoo set with
 * images (for the report's thumbnails) and noisy embeddings. */
#ifndef EVAL_EVHELP_H
#define EVAL_EVHELP_H

#include <stddef.h>

/* Runs `sh -c CMD` (printf-style), stdout and stderr together into *out
 * (malloc'd, may be NULL); returns the exit status (128 + signal when
 * killed). */
int ev_sh(char **out, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The whole file as a string (malloc'd), or NULL. */
char *ev_read(const char *path);
/* Writes text to DIR/NAME; fails the test on error. */
void ev_write(const char *dir, const char *name, const char *text);
/* Occurrences of `needle` in `hay`. */
size_t ev_count(const char *hay, const char *needle);
/* The line of `text` after `prefix` (malloc'd, without the newline), or NULL. */
char *ev_line_after(const char *text, const char *prefix);

/* $AIGTATT_BIN, failing the test when unset. */
const char *ev_bin(void);

/* Writes DIR/emb.csv (path,label,f1..f16) for `ids` identities with three
 * images each, noisy enough that some searches fail. With `images`, the
 * files exist under DIR/img/<id>/ (PNG, and JPEG for every third
 * identity), each a skin-coloured field holding a magenta square and an
 * identity-coloured ring, of varied sizes and aspect ratios. */
void ev_make_set(const char *dir, int ids, int images);

/* The magenta of the test images, for finding them in screenshots. */
#define EV_MAGENTA_R 230
#define EV_MAGENTA_G 0
#define EV_MAGENTA_B 230

#endif
