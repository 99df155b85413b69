/* Helpers of the compute tests: the reference backend linked in-process,
 * .npy files, and the table of op cases shared by the gradient checks
 * and the PyTorch parity test. */
#ifndef CT_H
#define CT_H

#include <stddef.h>
#include <stdint.h>
#include "compute/nn_core.h"

/** backend.reference's vtable (its plugin initialised with the core's host). */
const aigtatt_backend_vtable *ct_backend(void);

/** Writes a float32 / float64 / int64 .npy file ('f', 'd', 'l'). */
int ct_npy_write(const char *path, char type, int ndim, const int64_t *shape, const void *data);
/** Reads a .npy file into doubles; returns the element count, or -1. *out
 *  is malloc'd; shape/ndim are filled when not NULL. */
int64_t ct_npy_read(const char *path, double **out, int *ndim, int64_t *shape);

/* ---- op cases ---- */

typedef struct ct_input {
    /* 'p' param ~ N(0,1) (gets a gradient), 'q' param in [0.5, 2), 'x' input
     * ~ N(0,1), 'c' input of 0/1, 'l' I64 labels in [0, hi), 'm' F32 buffer
     * ~ N(0,1), 'v' F32 buffer in [0.5, 2), 'n' I64 scalar buffer, 'z' param
     * of distinct values spread apart (max pooling, amax: no near-ties) */
    char kind;
    int ndim;
    int64_t shape[6];
    int64_t hi;
} ct_input;

typedef struct ct_case {
    const char *name;
    const char *op;    /* the key of ref_ops.py's table */
    int training;
    int n_in;
    ct_input in[6];
    int64_t i[16];
    double r[4];
    int no_parity;     /* random masks: no PyTorch counterpart */
    double tol;        /* parity tolerance (relative to the largest reference value); 0: 1e-5 */
} ct_case;

extern const ct_case ct_cases[];
extern const size_t ct_n_cases;

/** Builds case `c`: leaves "in0".."inN", output "y", and with parameters a
 *  loss "loss" = sum(y * dy) with an input "dy". Returns the loss or
 *  INVALID (forward only). */
aigtatt_val ct_build(const ct_case *c, aigtatt_nn *nn);

/** Deterministic data for input k of case c (doubles holding float32
 *  values). Caller frees. */
double *ct_data(const ct_case *c, int k, uint64_t seed);
/** Data for "dy" with `n` elements. */
double *ct_dy(const ct_case *c, int64_t n, uint64_t seed);

/** A lowered, compiled program of case c with its inputs set. */
typedef struct ct_prog {
    aigtatt_nn *nn;
    aigtatt_nn_lowered *low;
    const aigtatt_ir *ir;
    void *prog;
    aigtatt_val loss;
} ct_prog;

/** Builds, lowers (f64 or F32, gradients exposed), compiles and sets every
 *  input, param and buffer of case c. 0 on success, else the error is in
 *  msg. */
int ct_prepare(const ct_case *c, int f64, ct_prog *p, char *msg, size_t msg_size);
void ct_release(ct_prog *p);
/** Sets value `name` from doubles (converted to its dtype). */
int ct_set(ct_prog *p, const char *name, const double *data);
/** Reads value `name` into a new array of doubles (NULL if absent); *n gets
 *  its element count. */
double *ct_get(ct_prog *p, const char *name, int64_t *n);

/** Runs ref_ops.py on `dir` with /usr/bin/python3. 0 on success; else msg
 *  says why (PyTorch missing: which Debian packages to install). */
int ct_run_reference(const char *dir, char *msg, size_t msg_size);
/** A fresh temporary folder (malloc'd path). */
char *ct_tmpdir(void);
/** Removes a folder tree. */
void ct_rmtree(const char *dir);

/** max|a-b| / max(max|b|, floor) */
double ct_relerr(const double *a, const double *b, int64_t n, double floor);

#endif
