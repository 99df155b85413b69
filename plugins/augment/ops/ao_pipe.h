/* Internal interface of the augment.pipeline node (prefix ao_). */
#ifndef AO_PIPE_H
#define AO_PIPE_H

#include "ao.h"

/* The `ops:` list is parsed, validated and applied by the host
 * (host->augment_chain_*, core/augment/chain.c), the mechanism
 * train.embedding's online `augment:` shares. */

/* ---- files (ao_files.c) ---------------------------------------------------- */

/* Non-zero if `s` can be one folder name: not empty, not . or .., no '/'
 * or control characters. */
int ao_safe_name(const char *s);
/* mkdir that accepts an existing folder. */
int ao_mkdir(const char *path);
/* The file extension of `path` in lower case (".png"), or "" if none. */
void ao_ext(const char *path, char *buf, size_t size);
/* Loads an image as RGB: grey is expanded, alpha composited over white
 * (a transparent design is ink on nothing, not on black). */
int ao_load_rgb(const char *path, aigtatt_image **out);

#endif
