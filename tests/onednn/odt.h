/* Helpers of the backend.onednn tests: the plugin loaded from the build
 * tree, a program compiled on both backend.reference (linked in, via
 * tests/compute/ct.c) and backend.onednn from the same lowered IR, and
 * comparisons. */
#ifndef ODT_H
#define ODT_H

#include <stddef.h>
#include <stdint.h>
#include "compute/nn_core.h"

/** backend.onednn's vtable (the plugin loaded from the build tree). */
const aigtatt_backend_vtable *odt_backend(void);
/** Opens a backend.onednn device from YAML parameters ("threads: 2\nfuse:
 *  false"); NULL text = defaults. 0 on success. */
int odt_open(const char *yaml, void **device);

/** One lowered IR compiled on both backends. */
typedef struct odt_pair {
    aigtatt_nn_lowered *low;
    const aigtatt_ir *ir;
    void *ref, *dnn;
} odt_pair;

/** Compiles `low` (taken over) on both; the onednn side on `device` (NULL:
 *  the default one), and initialises both from the same seed. 0 on
 *  success, else msg says why. */
int odt_pair_make(odt_pair *p, aigtatt_nn_lowered *low, void *device, char *msg, size_t msg_size);
void odt_pair_free(odt_pair *p);
/** odt_pair_make with stderr in a temporary file meanwhile: returns how
 *  many lines of the verbose step listing (device param verbose: true)
 *  name a step containing `needle`, or -1 when making the pair failed
 *  (msg says why). */
int odt_pair_make_counting(odt_pair *p, aigtatt_nn_lowered *low, void *device, const char *needle, char *msg,
                           size_t msg_size);
/** Sets value `name` on both from doubles converted to its dtype. */
int odt_set(odt_pair *p, const char *name, const double *data);
/** Runs both; 0 when both succeed. */
int odt_run(odt_pair *p, char *msg, size_t msg_size);
/** Reads `name` from both as doubles (malloc'd); *n its element count.
 *  0 on success. */
int odt_get(odt_pair *p, const char *name, double **ref, double **dnn, int64_t *n);
/** max|a - b| / max(max|b|, floor) of value `name`; -1 if missing. */
double odt_compare(odt_pair *p, const char *name, double floor);

#endif
