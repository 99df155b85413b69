/* backend.onednn internals.
 *
 * compile() turns the IR into a flat list of steps: oneDNN primitives
 * (created once, for the IR's concrete shapes) and a few C kernels. Each IR
 * value lives in one or more tensors: its "home" (the layout its producer
 * chose: plain row-major for everything set() or get() can reach, a blocked
 * layout oneDNN picked for most activations) and, on demand, copies in other
 * layouts ("alts") made by a reorder step just before the first op that
 * needs them. Tensors sit in buffers; buffers of temporaries share one
 * arena, placed by their live ranges in step order, so two buffers only
 * overlap in memory when they are never alive at the same time.
 *
 * Nothing of oneDNN crosses the plugin boundary: set()/get() copy plain
 * row-major host data as compute.h says. */
#ifndef OD_INTERNAL_H
#define OD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <oneapi/dnnl/dnnl.h>
#include <aigtatt/aigtatt.h>
#include <aigtatt/compute.h>

#define OD_MAXD AIGTATT_NN_MAX_DIMS
#define OD_MAXARGS 16
#define OD_MAXT 12
#define OD_MAXALT 6

extern const aigtatt_host *od_host;

/** The activation layouts the backend's own kernels and messages tell
 *  apart (blocked ones may pad the channels: check C against the block). */
typedef enum od_layout {
    OD_LAYOUT_PLAIN,
    OD_LAYOUT_NCHW8C,
    OD_LAYOUT_NCHW16C,
    OD_LAYOUT_NHWC,
    OD_LAYOUT_OTHER
} od_layout;

/** Which of those md is. */
od_layout od_md_layout(const dnnl_memory_desc_t *md);

/** "plain", "nChw8c", "nChw16c", "nhwc" or "blocked": od_md_layout as
 *  text, for the profile and the verbose listing. */
const char *od_md_layout_name(const dnnl_memory_desc_t *md);

/** What the verbose listing and the profile say of a step: oneDNN's
 *  implementation (or "c" for a C kernel) and its first tensor's type,
 *  layout and dims, into buf (n bytes, always terminated). */
struct od_prog;
struct od_step;
void od_step_describe(struct od_prog *p, const struct od_step *s, char *buf, size_t n);

/** Fails with a message prefixed "backend.onednn: "; returns the status. */
int od_fail(int status, const char *fmt, ...) AIGTATT_PRINTF(2, 3);

typedef struct od_device {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int threads;   /* resolved (> 0) */
    int fuse;      /* fusions allowed (param `fuse`) */
    int verbose;   /* log the step list at compile */
    int native_bn; /* batch norm in C kernels instead of oneDNN's (param `native_bn`) */
    dnnl_alg_kind_t conv_alg; /* dnnl_convolution_direct, or _auto (param `convolution`) */
    int wino;      /* convolution: winograd (3x3 stride-1 convolutions in od_wino.c) */
    int bf16;      /* precision: bf16 (convolutions, pooling, batch norm and element-wise ops
                    * on bf16 activations; weights, gradients of weights, statistics and
                    * everything on plain data stay f32) */
} od_device;

typedef struct od_buf {
    size_t size;
    int first, last;   /* steps that touch it; -1 when none */
    int persistent;    /* own allocation (non-temporary values, caches) */
    int last_ir;       /* largest IR last_op of the values living in it */
    size_t offset;     /* in the arena */
    void *ptr;
} od_buf;

typedef struct od_tensor {
    dnnl_memory_desc_t md;
    int buf;
    int value;         /* IR value, or -1 */
    dnnl_memory_t mem; /* made after planning, when a primitive uses it */
    int used;          /* needs a memory object */
} od_tensor;

typedef struct od_val {
    aigtatt_dtype dtype;
    int ndim;
    int64_t shape[OD_MAXD];
    int64_t numel;
    aigtatt_ir_role role;
    int32_t first_op, last_op;
    double constant;
    int home;            /* tensor; -1 until produced */
    int alt[OD_MAXALT];  /* the same data in other layouts */
    int nalt;
    int readers;         /* (op, input) pairs reading it */
    uint64_t version;    /* persistent values: bumped by set() and in-place updates */
    /* Persistent values kept in a blocked layout (training weights and
     * their optimizer state): set()/get() go through this plain tensor and
     * the two reorders. */
    int stage;
    dnnl_primitive_t to_home, from_home;
} od_val;

typedef struct od_op {
    aigtatt_ir_opcode op;
    int n_in, n_out;
    int32_t *in, *out;
    int64_t ints[16];
    double reals[4];
} od_op;

struct od_prog;
struct od_step;
typedef int (*od_kernel_fn)(struct od_prog *p, struct od_step *s);

typedef struct od_step {
    int op;                /* IR op index, or -1 */
    const char *what;      /* for messages and the verbose listing */
    dnnl_primitive_t prim; /* a primitive ... */
    int nargs;
    int arg_id[OD_MAXARGS];
    int arg_t[OD_MAXARGS];
    dnnl_exec_arg_t args[OD_MAXARGS];
    dnnl_memory_t scratch; /* this primitive's view of the shared scratchpad */
    dnnl_memory_desc_t scratch_md;
    od_kernel_fn fn;       /* ... or a C kernel on tensors t[] */
    int t[OD_MAXT];
    int nt;
    int64_t i[8];
    double f[4];
    void *aux;             /* kernel data, freed with the program */
    int *ext;              /* more tensors the step reads or writes (owned) */
    int next;
    /* Skip the step while the versions of these values are unchanged
     * (reorders and folds of weights that were not updated). */
    int key[6];
    int nkey;
    uint64_t sig;
    int sig_valid;
} od_step;

typedef struct od_prog {
    od_device *dev;
    size_t nv, nops;
    od_val *v;
    od_op *ops;
    int32_t *idx;
    uint64_t seed;
    int training;          /* the IR has backward ops */
    int no_bf16;           /* lowering the current op in f32 despite precision bf16 */

    od_tensor *t;
    size_t nt, capt;
    od_buf *b;
    size_t nb, capb;
    od_step *s;
    size_t ns, caps;

    /* compile-time state */
    int cur;               /* IR op being lowered */
    int pend_src[8], pend_dst[8], npend; /* reorders to run after the current step */
    int *skip;             /* per op: 1 = fused into another op's step */
    int *redirect;         /* per value: read this value instead (fusions) */
    int *ws;               /* per op: workspace tensor a later backward op reads */
    dnnl_primitive_desc_t *fwd_pd; /* per op: forward pd kept as a hint */
    void *fuse;            /* od_fuse.c's tables */

    void *arena;
    size_t arena_size;
    void *scratch;
    size_t scratch_size;
    size_t persistent_bytes;
    int nprims, nkernels, nreorders, nfused;
    double *prof;          /* per step seconds (AIGTATT_ONEDNN_PROFILE=1), warm runs only */
    double prof_cold;      /* seconds of the first run (page faults, first use of each kernel) */
    int prof_runs;         /* warm runs in prof */
    int prof_first_done;
    int runs;
} od_prog;

/* ---- od_compile.c: tensors, layouts, steps ---- */
dnnl_data_type_t od_dt(aigtatt_dtype t);
size_t od_esize(aigtatt_dtype t);
/** Plain row-major md over dims (ndim 0 = one element). */
void od_md_plain(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, dnnl_data_type_t dt);
/** md with format "any" over dims, of type dt. */
void od_md_any(dnnl_memory_desc_t *md, int ndim, const int64_t *dims, dnnl_data_type_t dt);
int od_md_is_plain(const dnnl_memory_desc_t *md);
/** Value dims as oneDNN sees them (ndim 0 -> {1}). */
int od_vdims(const od_val *v, int64_t *dims);

int od_tensor_new(od_prog *p, const dnnl_memory_desc_t *md, int buf, int value);
int od_buf_new(od_prog *p, size_t size, int persistent);
/** Value v (after redirects) in layout `want` (NULL: wherever it is). A
 *  plain `want` may have other dims than v (same element count). Adds a
 *  reorder step when needed. Returns a tensor or -1 with the error set. */
int od_src(od_prog *p, int v, const dnnl_memory_desc_t *want);
/** v in plain layout seen with dims (NULL: its own). */
int od_src_plain(od_prog *p, int v, int ndim, const int64_t *dims);
/** Where the current op writes value v (or an output nobody needs, v < 0)
 *  in layout md. Non-temporary values are stored plain: a blocked md gets
 *  a temporary plus a reorder into the value after the step. */
int od_dst(od_prog *p, int v, const dnnl_memory_desc_t *md);
/** Like od_dst but reuses src tensor's buffer when the value it holds dies
 *  at the current op (and md is the same). */
int od_dst_inplace(od_prog *p, int v, const dnnl_memory_desc_t *md, int src);
/** v's tensor is `t` from now on (aliases: reshape). */
void od_set_home(od_prog *p, int v, int t);
/** Keeps persistent value v in layout md from now on (set/get convert). 0
 *  when done or already so, -1 when v cannot move. */
int od_relayout(od_prog *p, int v, const dnnl_memory_desc_t *md);

/** A copy of the memory descriptor pd answers for q (pds own theirs; their
 *  answers die with them), or an all-zero one where it has none. */
dnnl_memory_desc_t od_qmd(const_dnnl_primitive_desc_t pd, dnnl_query_t q);
od_step *od_step_new(od_prog *p, const char *what);
/** Creates the primitive of pd into a new step; pd is destroyed. */
od_step *od_step_prim(od_prog *p, const char *what, dnnl_primitive_desc_t pd);
void od_step_arg(od_step *s, int arg, int tensor);
od_step *od_step_kernel(od_prog *p, const char *what, od_kernel_fn fn);
/** Reorder step src -> dst. */
int od_step_reorder(od_prog *p, int src, int dst);
/** Runs the reorders od_dst queued for the current step. */
int od_flush(od_prog *p);
/** attr with a user scratchpad (and post-ops when not NULL). */
dnnl_primitive_attr_t od_attr(const dnnl_post_ops_t po);
int od_check(dnnl_status_t st, const char *what);

/** Compiles ir for dev (od_compile.c); od_prog_free releases it. */
int od_compile_ir(od_device *dev, const aigtatt_ir *ir, od_prog **out);
void od_prog_free(od_prog *p);
/** The opcode's name ("CONV2D"). */
const char *od_op_name(aigtatt_ir_opcode c);

/* ---- od_ops.c: one IR op to steps ---- */
int od_lower_op(od_prog *p, int k);

/* ---- od_fuse.c: fusions planned before lowering ---- */
int od_fuse_plan(od_prog *p);
void od_fuse_free(od_prog *p);
/** Inference convolution with its fused tail: 1 lowered, 0 not fused, -1
 *  error. */
int od_conv_fused(od_prog *p, int k);
/** For a batch norm op: its fused ReLU op + 1, or 0. */
int od_bn_relu_fused(od_prog *p, int k);
/** For a batch norm backward whose ReLU backward was folded in: 1, with
 *  the forward batch norm op and the value to read as dy. */
int od_bn_bwd_fused(od_prog *p, int k, int *fwd_op, int *dy_value);
/** For an add followed by a ReLU: 1, with a ReLU post-op and the ReLU's
 *  output as the value to write. */
int od_binary_fused(od_prog *p, int k, dnnl_post_ops_t *po, int *yv);

/** The type of activations and of the weights a convolution reads: bf16 in
 *  precision bf16, else f32. */
struct od_prog;
dnnl_data_type_t od_act_dt(const struct od_prog *p);
/** 0 when oneDNN has bf16 convolutions, batch norm and pooling on this
 *  CPU; else fails with a message saying what is missing. */
int od_bf16_probe(dnnl_engine_t engine);

/* ---- od_kernels.c: C kernels ---- */
/** Whether a step computed from value V alone can be skipped while V's
 *  version stands: values set() or updated in place bump it, computed
 *  temporaries do not. */
static inline int od_cacheable(const od_val *V)
{
    return V->role == AIGTATT_IR_PARAM || V->role == AIGTATT_IR_BUFFER || V->role == AIGTATT_IR_CONSTANT;
}

/** Whether two values have the same dimensions. */
static inline int od_same_shape(const od_val *a, const od_val *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

static inline void *od_ptr(od_prog *p, int t) { return t < 0 ? NULL : p->b[p->t[t].buf].ptr; }
/** 1 when environment variable `name` holds a number above 0: the
 *  backend's switches for measuring one path against another. */
static inline int od_env_on(const char *name)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0;
}
int od_k_copy(od_prog *p, od_step *s);
int od_k_expand(od_prog *p, od_step *s);
int od_k_sgd(od_prog *p, od_step *s);
int od_k_adam(od_prog *p, od_step *s);
int od_k_increment(od_prog *p, od_step *s);
int od_k_bn_stats(od_prog *p, od_step *s);
int od_k_var_from_invstd(od_prog *p, od_step *s);
int od_k_ln_stats(od_prog *p, od_step *s);
int od_k_fold_bn(od_prog *p, od_step *s);
int od_k_bn_fwd(od_prog *p, od_step *s);
int od_k_bn_bwd(od_prog *p, od_step *s);

/* ---- od_wino_lower.c: Winograd F(4x4, 3x3) convolutions ---- */
/** 1 when this CPU runs od_wino.c's kernels (AVX2 and FMA). */
int od_wino_available(void);
/** Convolution op k (forward, backward data or backward weights) on the
 *  Winograd kernels: 1 lowered, 0 not eligible (or not asked for), -1
 *  error. */
int od_wino_lower(od_prog *p, int k);

/* ---- od_ref.c: backend.reference's kernels on plain data ---- */
/** Runs op k with the reference's loops (converting to double and back);
 *  for the ops oneDNN lacks. */
int od_lower_ref(od_prog *p, int k);
void od_ref_init(const aigtatt_host *host);

#endif
