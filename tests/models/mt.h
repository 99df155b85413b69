/* Helpers of the model tests (tests/models): the plugins under test and
 * backend.reference loaded from the build tree's plugin folder, networks
 * built from a backbone and a loss component, state dictionaries in
 * safetensors files, and the PyTorch side (ref_models.py). */
#ifndef MT_H
#define MT_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>
#include <aigtatt/optim.h>
#include "compute/nn_core.h"
#include "plugin/registry.h"
#include "tensor/safetensors.h"

/** Loads backend.reference, backbone.resnet, the losses and the optimizers
 *  from AIGTATT_PLUGIN_DIR once; asserts they were accepted. Also loads
 *  backend.onednn where it was built. */
void mt_setup(void);
/** The reference backend's vtable. */
const aigtatt_backend_vtable *mt_backend(void);
/** Whether backend.onednn loaded from AIGTATT_PLUGIN_DIR (it is optional:
 *  built only where Debian's libdnnl-dev is). */
int mt_have_onednn(void);
/** The loaded component `name`; asserts it exists. */
const aigtatt_component *mt_component(const char *name);
/** Validated parameters of `component` from YAML mapping text (NULL or ""
 *  for the defaults); asserts they are valid. Free with mt_params_free. */
aigtatt_params *mt_params(const char *component, const char *yaml);
/** Same, but returns NULL and the error text in msg when refused. */
aigtatt_params *mt_params_try(const char *component, const char *yaml, char *msg, size_t msg_size);
void mt_params_free(aigtatt_params *p);

/** What to build. Without a backbone the embedding is a parameter "emb"
 *  [n, k] (so that it gets a gradient). */
typedef struct mt_spec {
    const char *backbone_yaml; /* backbone.resnet's parameters, or NULL for "emb" */
    int64_t n, h, w;           /* batch and image size ("image" [n, 3, h, w]) */
    int64_t k;                 /* embedding size when there is no backbone */
    const char *loss;          /* a loss component, built under scope "loss", or NULL */
    const char *loss_yaml;
    int64_t classes;           /* with a loss: input "labels" [n] */
    int dy_loss;               /* no loss component: loss = sum(embedding * dy), input "dy" [n, K] */
    int training;
    int expose_grads;
    const aigtatt_nn_optim *optim;
    int f64;                   /* lower in double (exact references) */
    uint64_t seed;             /* builder and initialisation seed */
    const char *backend;       /* a loaded backend component; NULL: backend.reference */
    const char *backend_yaml;  /* its parameters (a device is opened with them); NULL: no device */
} mt_spec;

typedef struct mt_net {
    const aigtatt_backend_vtable *be; /* the backend it was compiled by */
    void *device;                     /* opened for backend_yaml, or NULL */
    aigtatt_nn *nn;
    aigtatt_nn_lowered *low;
    const aigtatt_ir *ir;
    void *prog;
    aigtatt_val embedding, loss;
    double build_s, compile_s;
} mt_net;

/** Builds, lowers, compiles and initialises; 0 or -1 with msg. */
int mt_build(const mt_spec *s, mt_net *net, char *msg, size_t msg_size);
void mt_free(mt_net *net);
/** Sets value `name` from doubles (converted to its dtype); -1 if absent. */
int mt_set(mt_net *net, const char *name, const double *data);
/** Reads value `name` into new doubles (NULL if absent); *n its count. */
double *mt_get(mt_net *net, const char *name, int64_t *n);
/** Runs once; 0 or -1 with msg. Adds the seconds to *seconds if not NULL. */
int mt_run(mt_net *net, double *seconds, char *msg, size_t msg_size);

/** Writes every PARAM and BUFFER (F32, F64 or I64, as they are) to a
 *  safetensors file. */
int mt_save_state(mt_net *net, const char *path);
/** Sets every PARAM and BUFFER from a safetensors file (F32, F64 or I64,
 *  converted to the value's dtype); a missing or misshaped tensor fails
 *  with its name in msg. */
int mt_load_state(mt_net *net, const char *path, char *msg, size_t msg_size);

/** A safetensors file being written: tensors given as doubles, stored as
 *  F32, F64 or I64 ('f', 'd', 'l'). */
typedef struct mt_st mt_st;
mt_st *mt_st_new(void);
void mt_st_add(mt_st *w, const char *name, char type, int ndim, const int64_t *shape, const double *data);
int mt_st_write(mt_st *w, const char *path);
/** Reads tensor `name` of a file as doubles (NULL if absent); *n its count.
 *  It reads the whole file: to take many tensors from one large file, open
 *  it once with mt_st_open and take each with mt_st_get (a ResNet-50
 *  reference file read once per tensor cost the parity test two minutes). */
double *mt_st_read(const char *path, const char *name, int64_t *n);
/** The file at path, read and validated once (NULL if it cannot be);
 *  release with aigtatt_st_close. */
aigtatt_st *mt_st_open(const char *path);
/** Tensor `name` of an open file as doubles (malloc'd; NULL if absent or
 *  st is NULL); *n its count. */
double *mt_st_get(const aigtatt_st *st, const char *name, int64_t *n);

/** Runs ref_models.py COMMAND DIR with /usr/bin/python3; 0, or -1 with the
 *  script's first output lines (or what to install) in msg. */
int mt_python(const char *command, const char *dir, char *msg, size_t msg_size);
/** The same in two halves, so the caller can compute its own side while
 *  PyTorch computes its (the parity tests' longest parts run side by side
 *  on a free core). start: NULL with the reason in msg; wait: as
 *  mt_python, and it releases p. */
typedef struct mt_proc mt_proc;
mt_proc *mt_python_start(const char *command, const char *dir, char *msg, size_t msg_size);
int mt_python_wait(mt_proc *p, char *msg, size_t msg_size);
/** A fresh folder under /tmp (malloc'd path); mt_rmtree removes it. */
char *mt_tmpdir(void);
void mt_rmtree(const char *dir);
/** Writes text to dir/name. */
int mt_write_text(const char *dir, const char *name, const char *text);

/** max|a - b| / max(max|b|, floor); NaN on one side only is infinite. */
double mt_relerr(const double *a, const double *b, int64_t n, double floor);
/** Deterministic N(0, 1) (rounded to float) or uniform [lo, hi) data. */
void mt_normal(double *d, int64_t n, uint64_t seed, double scale);
void mt_uniform(double *d, int64_t n, uint64_t seed, double lo, double hi);
/** Seconds on a monotonic clock, and of this process's CPU time (the
 *  machine is shared, so wall time alone says little). */
double mt_now(void);
double mt_cpu(void);

/** The core's lowering options for an optimizer component's rule (what a
 *  trainer does with aigtatt_optimizer_vtable.describe). */
aigtatt_nn_optim mt_optim_from_spec(const aigtatt_optim_spec *s);
/** describe() of optimizer component `name` with `yaml`; asserts. */
aigtatt_optim_spec mt_describe(const char *name, const char *yaml);

#endif
