/* Validation of a component's parameters against its declaration, and the
 * typed values the host's param_* getters return. */
#ifndef AIGTATT_CORE_PARAMS_H
#define AIGTATT_CORE_PARAMS_H

#include <aigtatt/host.h>
#include "config/cfg.h"

/** Validates mapping `map` (may be NULL: all defaults) against `comp`'s
 *  declared parameters:
 *   - unknown key: "file:l:c: unknown parameter 'widht' for image.procedural
 *     (did you mean 'width'?)" — the nearest declared name when close;
 *   - wrong type ("expected an integer, got 'abc'"), out of range
 *     ("must be between 1 and 4096, got 0"), enum not in choices (lists
 *     them), a missing required parameter (names the node's location),
 *     list items of the wrong type.
 *  BOOL accepts true/false (any case); INT a plain decimal integer (no
 *  overflow); FLOAT a finite decimal or exponent number; a quoted scalar is
 *  a string and never a number or bool. PATH values are made absolute
 *  against `base_dir` (the experiment file's folder; NULL = cwd).
 *  Defaults are parsed from the declared YAML text (an unparsable default is
 *  a plugin bug reported as such). The result keeps its own copies of
 *  everything (it does not point into `map`). */
int aigtatt_params_parse(const aigtatt_cfg *map, const aigtatt_component_desc *comp,
                         const char *base_dir, aigtatt_params **out);
void aigtatt_params_free(aigtatt_params *p);

/* Getters: host-table semantics (see aigtatt_host). */
int aigtatt_params_bool(const aigtatt_params *p, const char *name);
int64_t aigtatt_params_int(const aigtatt_params *p, const char *name);
double aigtatt_params_float(const aigtatt_params *p, const char *name);
const char *aigtatt_params_string(const aigtatt_params *p, const char *name);
const aigtatt_cfg *aigtatt_params_cfg(const aigtatt_params *p, const char *name);
int aigtatt_params_is_set(const aigtatt_params *p, const char *name);

/** Canonical JSON of the resolved values (object with keys sorted, numbers
 *  in a fixed format, lists and maps in full, PATHs as given resolved) —
 *  what the lock file and node.json record. malloc'ed. */
char *aigtatt_params_canonical_json(const aigtatt_params *p);

/** The same without the parameters declared `no_key` (thread counts,
 *  timeouts): the part of a node's cache key that stands for its
 *  parameters. malloc'ed. */
char *aigtatt_params_key_json(const aigtatt_params *p);

#endif
