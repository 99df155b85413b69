/* Internal interface of the augment.pipeline node (prefix ao_). */
#ifndef AO_PIPE_H
#define AO_PIPE_H

#include "ao.h"

/* One entry of the `ops:` list, validated against its op's declaration. */
typedef struct ao_step {
    char name[96];                        /* as written: "rotate" */
    const aigtatt_augment_op_vtable *vt;  /* the op's vtable */
    aigtatt_params *params;               /* owned (params_free) */
    double p;                             /* probability of applying it */
    aigtatt_param_desc *decls;            /* op's declarations + op and p */
    aigtatt_component_desc desc;          /* the op, with decls */
} ao_step;

typedef struct ao_steps {
    ao_step *v;
    size_t n;
} ao_steps;

/* Parses the `ops` list of the node's parameters. Errors name the YAML
 * location (file:line:col) of the offending entry. */
int ao_steps_parse(const aigtatt_params *node_params, ao_steps *out);
void ao_steps_free(ao_steps *s);

/* Applies the steps to `src` for one variation seeded by `seed`: each step
 * gets its own generator (seed, step index), so changing one op leaves the
 * others' samples alone. Appends ,"ops":[...] to `meta`. */
typedef struct ao_text {
    char *data;
    size_t len, cap;
    int failed;
} ao_text;
void ao_text_puts(ao_text *t, const char *s);
void ao_text_printf(ao_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ao_text_json_str(ao_text *t, const char *s);
void ao_text_free(ao_text *t);

int ao_steps_apply(const ao_steps *s, int shuffle, uint64_t seed, const aigtatt_image *src, aigtatt_image **out,
                   ao_text *meta);

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
