/* backend.onednn: runs the compute IR on oneDNN (Debian's libdnnl, CPU
 * engine, OpenMP threads). See od_internal.h for the design. */
#include "od_internal.h"

#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const aigtatt_host *od_host;

int od_fail(int status, const char *fmt, ...)
{
    char msg[1024], clean[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* nested messages carry the prefix already: keep one */
    static const char pre[] = "backend.onednn: ";
    size_t n = 0;
    for (const char *s = msg; *s && n + 1 < sizeof clean;) {
        if (!strncmp(s, pre, sizeof pre - 1)) {
            s += sizeof pre - 1;
            continue;
        }
        clean[n++] = *s++;
    }
    clean[n] = '\0';
    od_host->set_error("backend.onednn: %s", clean);
    return status;
}


static int resolve_threads(int64_t want)
{
    if (want > 0)
        return (int)want;
    int n = omp_get_num_procs();
    return n > 0 ? n : 1;
}

/* One pd of kind `what`: 0 when oneDNN has a non-reference implementation. */
static int probe_pd(dnnl_engine_t e, const void *desc, const char *what, char *missing, size_t cap)
{
    dnnl_primitive_desc_t pd = NULL;
    const char *impl = NULL;
    int ok = dnnl_primitive_desc_create(&pd, desc, NULL, e, NULL) == dnnl_success;
    if (ok)
        ok = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
             strncmp(impl, "ref", 3) != 0;
    if (!ok) {
        size_t n = strlen(missing);
        snprintf(missing + n, cap - n, "%s%s", n ? ", " : "", what);
    }
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return ok ? 0 : -1;
}

int od_bf16_probe(dnnl_engine_t e)
{
    /* a ResNet-like 3x3 convolution and the batch norm after it */
    dnnl_memory_desc_t s, w, d, wf, x;
    dnnl_dims_t sd = { 16, 64, 28, 28 }, wd = { 64, 64, 3, 3 }, one = { 1, 1 }, pad = { 1, 1 };
    dnnl_memory_desc_init_by_tag(&s, 4, sd, dnnl_bf16, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&w, 4, wd, dnnl_bf16, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&wf, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&d, 4, sd, dnnl_bf16, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&x, 4, sd, dnnl_bf16, dnnl_nChw16c);
    char missing[256] = "";
    dnnl_convolution_desc_t cd;
    dnnl_batch_normalization_desc_t bd;
    int bad = 0;
    if (dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct, &s, &w, NULL, &d, one,
                                           pad, pad) == dnnl_success)
        bad |= probe_pd(e, &cd, "convolution", missing, sizeof missing);
    else
        bad = 1;
    if (dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &s, &wf, NULL, &d, one, pad, pad) ==
        dnnl_success)
        bad |= probe_pd(e, &cd, "convolution backward weights (f32 gradients)", missing, sizeof missing);
    else
        bad = 1;
    if (dnnl_batch_normalization_forward_desc_init(&bd, dnnl_forward_training, &x, 1e-5f,
                                                   dnnl_use_scale | dnnl_use_shift) == dnnl_success)
        bad |= probe_pd(e, &bd, "batch normalization", missing, sizeof missing);
    else
        bad = 1;
    if (!bad)
        return AIGTATT_OK;
    return od_fail(AIGTATT_ERR_INVALID,
                   "precision bf16: oneDNN %d.%d has no bf16 kernels on this CPU (missing: %s); it needs AVX-512 "
                   "(native bf16 arithmetic with AVX512-BF16 or AMX), this CPU has %s; use precision f32",
                   dnnl_version()->major, dnnl_version()->minor, missing[0] ? missing : "convolution",
                   __builtin_cpu_supports("avx512bf16") ? "AVX512-BF16"
                   : __builtin_cpu_supports("avx512f") ? "AVX-512 without BF16"
                   : __builtin_cpu_supports("avx2")    ? "AVX2 only"
                                                       : "no AVX2");
}

static int device_init(od_device *d, int64_t threads, int fuse, int verbose, int native_bn)
{
    d->native_bn = native_bn;
    d->conv_alg = dnnl_convolution_direct;
    d->threads = resolve_threads(threads);
    d->fuse = fuse;
    d->verbose = verbose;
    omp_set_num_threads(d->threads);
    if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success)
        return od_fail(AIGTATT_ERR, "cannot create oneDNN's CPU engine");
    if (dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(d->engine);
        return od_fail(AIGTATT_ERR, "cannot create a oneDNN stream");
    }
    return AIGTATT_OK;
}

static void od_close(void *device);

static int od_open(const aigtatt_params *params, void **device)
{
    *device = NULL;
    int64_t threads = 0;
    int fuse = 1, verbose = 0, native_bn = 1, bf16 = 0, conv_auto = 0, wino = 0;
    if (params) {
        native_bn = od_host->param_bool(params, "native_bn");
        threads = od_host->param_int(params, "threads");
        fuse = od_host->param_bool(params, "fuse");
        verbose = od_host->param_bool(params, "verbose");
        const char *prec = od_host->param_string(params, "precision");
        bf16 = prec && !strcmp(prec, "bf16");
        const char *ca = od_host->param_string(params, "convolution");
        conv_auto = ca && !strcmp(ca, "auto");
        wino = ca && !strcmp(ca, "winograd");
    }
    od_device *d = od_host->alloc_zero(1, sizeof *d);
    if (!d)
        return od_fail(AIGTATT_ERR_NOMEM, "out of memory");
    int rc = device_init(d, threads, fuse, verbose, native_bn);
    if (rc != AIGTATT_OK) {
        od_host->free_mem(d);
        return rc;
    }
    d->bf16 = bf16;
    if (conv_auto)
        d->conv_alg = dnnl_convolution_auto;
    if (wino && !od_wino_available()) {
        od_close(d);
        return od_fail(AIGTATT_ERR_INVALID, "convolution: winograd needs a CPU with AVX2 and FMA; use direct");
    }
    d->wino = wino;
    if (bf16 && (rc = od_bf16_probe(d->engine)) != AIGTATT_OK) {
        od_close(d);
        return rc;
    }
    *device = d;
    return AIGTATT_OK;
}

static void od_close(void *device)
{
    od_device *d = device;
    if (!d)
        return;
    dnnl_stream_destroy(d->stream);
    dnnl_engine_destroy(d->engine);
    od_host->free_mem(d);
}

/* compile(NULL, ...) uses a device with the default parameters (all
 * cores), made once. Environment AIGTATT_ONEDNN_FUSE=0 and
 * AIGTATT_ONEDNN_NATIVE_BN=0 turn those off for it (tests). */
static od_device *default_device(void)
{
    static od_device dev;
    static int ready;
    if (!ready) {
        const char *f = getenv("AIGTATT_ONEDNN_FUSE"), *nb = getenv("AIGTATT_ONEDNN_NATIVE_BN");
        if (device_init(&dev, 0, !(f && f[0] == '0'), 0, !(nb && nb[0] == '0')) != AIGTATT_OK)
            return NULL;
        ready = 1;
    }
    return &dev;
}

static int od_compile(void *device, const aigtatt_ir *ir, void **program)
{
    *program = NULL;
    od_device *d = device ? device : default_device();
    if (!d)
        return AIGTATT_ERR;
    omp_set_num_threads(d->threads);
    od_prog *p = NULL;
    int rc = od_compile_ir(d, ir, &p);
    if (rc == AIGTATT_OK)
        *program = p;
    return rc;
}

#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* AIGTATT_ONEDNN_PROFILE=1: time per step, summed by kind (and the ten
 * slowest steps with their oneDNN implementation) on stderr at release.
 * The first run is left out of the averages: it pays the arena's page
 * faults and every kernel's first use (it made batch norm's forward look
 * twice as slow as it is). */
static void profile_report(od_prog *p)
{
    if (!p->prof)
        return;
    if (!p->prof_runs) {
        fprintf(stderr, "backend.onednn profile: one run only (%.3f s, cold); run the program twice to profile it\n",
                p->prof_cold);
        return;
    }
    typedef struct { const char *what; double t; int n; } agg;
    agg a[64];
    int na = 0;
    double total = 0;
    for (size_t i = 0; i < p->ns; i++) {
        const char *w = p->s[i].what;
        int j = 0;
        while (j < na && strcmp(a[j].what, w))
            j++;
        if (j == na && na < 64)
            a[na++] = (agg){ w, 0, 0 };
        if (j < na) {
            a[j].t += p->prof[i];
            a[j].n++;
        }
        total += p->prof[i];
    }
    for (int i = 0; i < na; i++)
        for (int j = i + 1; j < na; j++)
            if (a[j].t > a[i].t) {
                agg x = a[i];
                a[i] = a[j];
                a[j] = x;
            }
    fprintf(stderr,
            "backend.onednn profile: %.3f s per run over %d runs (the first, cold one, %.3f s, left out), %zu steps "
            "(%d primitives, %d reorders, %d C kernels, %d ops fused); arena %zu MiB, persistent %zu MiB, scratchpad "
            "%zu MiB\n",
            total / p->prof_runs, p->prof_runs, p->prof_cold, p->ns, p->nprims, p->nreorders, p->nkernels, p->nfused, p->arena_size >> 20,
            p->persistent_bytes >> 20, p->scratch_size >> 20);
    for (int i = 0; i < na; i++)
        fprintf(stderr, "  %-22s %4d steps %8.3f s/run %5.1f%%\n", a[i].what, a[i].n, a[i].t / p->prof_runs,
                100 * a[i].t / total);
    /* AIGTATT_ONEDNN_PROFILE=N above 1 lists the N slowest steps */
    const char *pe = getenv("AIGTATT_ONEDNN_PROFILE");
    int top = pe && atoi(pe) > 1 ? atoi(pe) : 12;
    for (int k = 0; k < top; k++) {
        size_t bi = 0;
        double bt = -1;
        for (size_t i = 0; i < p->ns; i++)
            if (p->prof[i] > bt) {
                bt = p->prof[i];
                bi = i;
            }
        if (bt <= 0)
            break;
        char d[224];
        od_step_describe(p, &p->s[bi], d, sizeof d);
        fprintf(stderr, "  slow step %zu (op %d %s, %s): %.4f s/run\n", bi, p->s[bi].op, p->s[bi].what, d,
                bt / p->prof_runs);
        p->prof[bi] = -p->prof[bi];
    }
}

static void od_release(void *program)
{
    od_prog *p = program;
    if (p && p->prof) {
        profile_report(p);
        free(p->prof);
        p->prof = NULL;
    }
    od_prog_free(program);
}

static int check_io(od_prog *p, int32_t vi, size_t nbytes, int writing, od_val **out)
{
    if (!p || vi < 0 || (size_t)vi >= p->nv)
        return od_fail(AIGTATT_ERR_INVALID, "no value %d", (int)vi);
    od_val *v = &p->v[vi];
    if (v->role == AIGTATT_IR_TEMP || v->role == AIGTATT_IR_CONSTANT)
        return od_fail(AIGTATT_ERR_INVALID, "value %d is a %s and cannot be %s", (int)vi,
                       v->role == AIGTATT_IR_TEMP ? "temporary" : "constant", writing ? "set" : "read");
    if (writing && v->role == AIGTATT_IR_OUTPUT)
        return od_fail(AIGTATT_ERR_INVALID, "value %d is an output and cannot be set", (int)vi);
    size_t want = (size_t)v->numel * od_esize(v->dtype);
    if (nbytes != want)
        return od_fail(AIGTATT_ERR_INVALID, "value %d holds %zu bytes, not %zu", (int)vi, want, nbytes);
    *out = v;
    return AIGTATT_OK;
}

static int od_set(void *program, int32_t vi, const void *data, size_t nbytes)
{
    od_prog *p = program;
    od_val *v = NULL;
    int rc = check_io(p, vi, nbytes, 1, &v);
    if (rc != AIGTATT_OK)
        return rc;
    if (v->stage >= 0) { /* kept blocked: through the plain staging copy */
        if (nbytes)
            memcpy(od_ptr(p, v->stage), data, nbytes);
        omp_set_num_threads(p->dev->threads);
        dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, p->t[v->stage].mem }, { DNNL_ARG_TO, p->t[v->home].mem } };
        dnnl_status_t st = dnnl_primitive_execute(v->to_home, p->dev->stream, 2, a);
        dnnl_stream_wait(p->dev->stream);
        if (st != dnnl_success)
            return od_check(st, "set");
    } else if (nbytes) {
        memcpy(od_ptr(p, v->home), data, nbytes);
    }
    v->version++;
    return AIGTATT_OK;
}

static int od_get(void *program, int32_t vi, void *data, size_t nbytes)
{
    od_prog *p = program;
    od_val *v = NULL;
    int rc = check_io(p, vi, nbytes, 0, &v);
    if (rc != AIGTATT_OK)
        return rc;
    if (v->stage >= 0) {
        omp_set_num_threads(p->dev->threads);
        dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, p->t[v->home].mem }, { DNNL_ARG_TO, p->t[v->stage].mem } };
        dnnl_status_t st = dnnl_primitive_execute(v->from_home, p->dev->stream, 2, a);
        dnnl_stream_wait(p->dev->stream);
        if (st != dnnl_success)
            return od_check(st, "get");
        if (nbytes)
            memcpy(data, od_ptr(p, v->stage), nbytes);
    } else if (nbytes) {
        memcpy(data, od_ptr(p, v->home), nbytes);
    }
    return AIGTATT_OK;
}

static uint64_t signature(od_prog *p, const od_step *s)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < s->nkey; i++)
        h = (h ^ p->v[s->key[i]].version) * 0x100000001b3ULL + (uint64_t)s->key[i];
    return h;
}

static int od_run(void *program)
{
    od_prog *p = program;
    if (!p)
        return od_fail(AIGTATT_ERR_INVALID, "no program");
    omp_set_num_threads(p->dev->threads);
    if (!p->prof && od_env_on("AIGTATT_ONEDNN_PROFILE"))
        p->prof = calloc(p->ns + 1, sizeof *p->prof);
    double t_step = p->prof ? now_s() : 0;
    for (size_t i = 0; i < p->ns; i++) {
        od_step *s = &p->s[i];
        uint64_t sig = 0;
        if (s->nkey) {
            sig = signature(p, s);
            if (s->sig_valid && s->sig == sig)
                continue;
        }
        int rc = AIGTATT_OK;
        if (s->prim) {
            dnnl_exec_arg_t args[OD_MAXARGS + 1];
            int n = s->nargs;
            memcpy(args, s->args, sizeof(dnnl_exec_arg_t) * (size_t)n);
            if (s->scratch) {
                args[n].arg = DNNL_ARG_SCRATCHPAD;
                args[n].memory = s->scratch;
                n++;
            }
            dnnl_status_t st = dnnl_primitive_execute(s->prim, p->dev->stream, n, args);
            if (st != dnnl_success)
                rc = od_check(st, s->what);
        } else {
            s->sig_valid = 0;
            rc = s->fn(p, s);
        }
        if (rc != AIGTATT_OK) {
            s->sig_valid = 0;
            dnnl_stream_wait(p->dev->stream);
            return rc;
        }
        if (s->nkey) {
            s->sig = sig;
            s->sig_valid = 1;
        }
        if (p->prof) {
            double t = now_s();
            p->prof[i] += t - t_step;
            t_step = t;
        }
        if (od_host->cancelled && (i & 63) == 63 && od_host->cancelled()) {
            dnnl_stream_wait(p->dev->stream);
            return AIGTATT_ERR_CANCELLED;
        }
    }
    dnnl_stream_wait(p->dev->stream);
    p->runs++;
    if (p->prof && !p->prof_first_done) {
        p->prof_first_done = 1;
        p->prof_cold = 0;
        for (size_t i = 0; i < p->ns; i++)
            p->prof_cold += p->prof[i];
        memset(p->prof, 0, p->ns * sizeof *p->prof);
    } else if (p->prof) {
        p->prof_runs++;
    }
    return AIGTATT_OK;
}

static const aigtatt_backend_vtable od_vtable = {
    .struct_size = sizeof(aigtatt_backend_vtable),
    .open = od_open,
    .close = od_close,
    .compile = od_compile,
    .release = od_release,
    .set = od_set,
    .get = od_get,
    .run = od_run,
};

static const aigtatt_param_desc od_params[] = {
    { .name = "threads", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0, .has_max = 1,
      .max = 1024, .doc = "OpenMP threads oneDNN and the C kernels use; 0 = every core." },
    { .name = "precision", .type = AIGTATT_PARAM_ENUM, .default_value = "f32", .choices = "f32|bf16",
      .doc = "Arithmetic precision. f32: fp32 storage and arithmetic. bf16: convolutions, batch norm, pooling "
             "and the element-wise ops between them run on bf16 activations and bf16 copies of the weights "
             "(oneDNN's AVX512-BF16/AMX kernels, fp32 accumulation); master weights, weight gradients, "
             "optimizer state, normalisation statistics, the embedding head and the loss stay fp32. Needs a "
             "CPU with AVX-512 (refused with a message elsewhere). Embeddings differ from f32 by bf16 "
             "rounding (about 1e-2 relative)." },
    { .name = "convolution", .type = AIGTATT_PARAM_ENUM, .default_value = "direct",
      .choices = "direct|auto|winograd",
      .doc = "Convolution algorithm. direct: the same arithmetic as PyTorch's CPU convolutions. auto: oneDNN may "
             "pick its Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions where it has it (f32 on AVX-512 CPUs in "
             "oneDNN 2.6; elsewhere auto is direct). winograd: the backend's own Winograd F(4x4, 3x3) (needs "
             "AVX2 and FMA) for every f32 3x3 stride-1 convolution with one group, channels in multiples of 8 "
             "and an output of at least 2x2 (bias allowed), forward, backward data and backward weights (the "
             "products of the forward and backward data in the backend's own AVX2 kernel, those of the "
             "backward weights through oneDNN's sgemm): 4x fewer multiplications. The rest stays direct, as do "
             "inference convolutions fused with their batch norm, add and ReLU (fuse: true) and everything in "
             "precision bf16. Winograd results differ from direct by its rounding (~1e-6 relative)." },
    { .name = "fuse", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
      .doc = "Fuse ops where the result stays within fp32 rounding of the unfused graph: batch norm + ReLU "
             "(training), add + ReLU, and in inference convolution + batch norm (folded) + residual add + ReLU." },
    { .name = "native_bn", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
      .doc = "Batch norm (forward, backward, with a fused ReLU) in the backend's own C kernels, on f32 or bf16 "
             "activations in plain, nChw8c, nChw16c or NHWC layout: channel blocks (NHWC: pixel ranges) per "
             "thread, statistics in double, two passes each way. oneDNN 2.6's batch norm synchronises its "
             "threads with spin barriers and stalls when cores are shared, and its bf16 one was slower; false "
             "uses it anyway. Layouts the kernels do not handle (padded channel blocks) always use oneDNN's." },
    { .name = "verbose", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
      .doc = "Log every compiled step with the oneDNN implementation it uses (c: the backend's own kernel) and "
             "its first tensor's type, layout and dims." },
    { 0 }
};

static const aigtatt_component_desc od_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_BACKEND,
    .name = "backend.onednn",
    .version = "1.0.3",
    .summary = "oneDNN CPU backend: blocked layouts, fused primitives, OpenMP threads",
    .doc = "Compiles the compute IR into oneDNN primitives created once per shape: convolutions (forward, "
           "backward data, backward weights), batch and layer norm, matmul, pooling, element-wise, binary with "
           "broadcasting, softmax, reductions, concat and reorders. Activations stay in the blocked layouts "
           "oneDNN picks and are converted only where an op needs plain data; temporaries share one arena "
           "planned from their live ranges. Ops oneDNN lacks run backend.reference's loops on plain data. "
           "Runs F32 networks (F64 lowerings belong to backend.reference).",
    AIGTATT_PARAMS(od_params),
    .vtable = &od_vtable,
};

static const aigtatt_component_desc *const od_components[] = { &od_component, NULL };

static int od_init(const aigtatt_host *host)
{
    od_host = host;
    od_ref_init(host);
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-backend-onednn", .version = "1.0.0", .license = "MIT",
                      .description = "The oneDNN compute backend (CPU)", .components = od_components,
                      .init = od_init);
