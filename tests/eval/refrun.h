/* Runs tests/eval/ref_metrics.py (pyeer + scikit-learn) on score sets the
 * C tests write, and reads its answers back, plus the parity bookkeeping
 * that every comparison goes through. */
#ifndef EVAL_REFRUN_H
#define EVAL_REFRUN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Absolute tolerance of every parity check (issue 4: 1e-9). */
#define REF_TOL 1e-9

typedef struct ref_run {
    char dir[256];  /* temporary folder, removed by ref_end() */
    json_t *cases;  /* the case list handed to the script */
} ref_run;

void ref_begin(ref_run *r);
/* Writes `bytes` of `data` to DIR/file and returns the path (owned by the
 * caller). */
char *ref_write(ref_run *r, const char *file, const void *data, size_t bytes);
/* Appends a case object (reference stolen). */
void ref_add(ref_run *r, json_t *c);
/* Runs the interpreter named by $AIGTATT_PYTHON (default python3) on the
 * cases. Returns its exit status (-1 if it could not start); on failure
 * `err` holds its stderr. `extra_env` (may be NULL) is one NAME=VALUE
 * added to the environment. */
int ref_exec(ref_run *r, const char *extra_env, char *err, size_t errsz);
/* Like ref_exec, but fails the running Criterion test with the script's
 * message when it does not succeed. */
void ref_exec_or_fail(ref_run *r);
/* DIR/name.json, or NULL. */
json_t *ref_json(ref_run *r, const char *name);
/* A scalar of a case's JSON; fails the test when missing. */
double ref_num(json_t *j, const char *key);
/* DIR/name.key.f64 as a malloc'd array with its length. */
double *ref_array(ref_run *r, const char *name, const char *key, size_t *n);
void ref_end(ref_run *r);

/* ---- parity ---------------------------------------------------------- */

/* |a - b| <= tol, with equal infinities (and two NaNs) counted as equal. */
int ref_close(double a, double b, double tol);
/* Checks one value with cr_expect and adds it to the running parity
 * figures (count, bit-identical count, largest difference). */
void ref_check(const char *what, double got, double want);
/* Checks two arrays of equal length element by element. */
void ref_check_array(const char *what, const double *got, size_t n_got,
                     const double *want, size_t n_want);
/* Prints and resets the parity figures for the label. */
void ref_report(const char *label);

/* ---- data ------------------------------------------------------------ */

/* splitmix64, so test data never depends on the C library's rand(). */
uint64_t ref_rand(uint64_t *state);
double ref_uniform(uint64_t *state);
double ref_normal(uint64_t *state);

#endif
