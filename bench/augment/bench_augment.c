/* Benchmark of the augmentation ops (issue 3): images per second for each
 * augment.* op on one thread, and for a whole augmentation pipeline on all
 * cores, at 512x512 RGB by default.
 *
 * The ops are loaded the way the CLI loads them: the aigtatt_augment
 * plugin through the core's registry, each op found by name, its
 * parameters validated by the host (params_parse) and its vtable's apply()
 * called with the host table of aigtatt_host_get(). Every call gets a new
 * generator, so the op samples new values each time (as albumentations
 * does per call); the output image is freed at once.
 *
 *   bench_augment [--plugin PATH] [--size N] [--min-time S] [--input PNG]
 *                 [--write-input PNG] [--ops a,b,...] [--jobs N]
 *                 [--pipeline-images N] [--tsv FILE] [--list] [--hash FILE]
 *                 [--dump DIR] [--seed N]
 *
 * --hash FILE runs every op (and a few extra parameter sets) on small and
 * full-size grey, RGB and RGBA pictures with 4 seeds each and writes one
 * line per run: op, parameters, shape, seed, a hash of the output bytes and
 * the sampled values. Two plugin builds (a plain-path build made with
 * -DAO_FORCE_SCALAR, one with -DAO_POISON_UNINIT, an older version) give
 * the same file exactly when they give the same bytes.
 *
 * --dump DIR writes the test picture (input.png) and each selected op's
 * output for generator seed --seed (default 1) as DIR/<op>.png, with the
 * sampled values in DIR/<op>.json: for looking at the results, or for
 * comparing them with OpenCV's.
 *
 * Output: a table on stdout; with --tsv, "name<TAB>img/s" lines that
 * bench/augment/run.sh joins with the Python peers' numbers. Pipeline rows
 * are "pipeline:1" / "pipeline:N" (one thread / --jobs threads, the steps
 * albumentations also has) and "pipeline-full:1" / "pipeline-full:N" (all
 * of configs/quickstart.yaml's steps).
 *
 * The op parameters below are the ones bench/augment/peer.py mirrors with
 * albumentations and OpenCV; keep the two tables in step. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <aigtatt/augment.h>
#include "config/cfg.h"
#include "host/host.h"
#include "image/image.h"
#include "plugin/registry.h"
#include "util/error.h"
#include "util/pool.h"

#ifndef AIGTATT_BENCH_PLUGIN_DIR
#define AIGTATT_BENCH_PLUGIN_DIR "build/plugins"
#endif

static const aigtatt_host *H;

/* ---- the ops and their parameters ---------------------------------------- */

typedef struct bench_op {
    const char *name; /* augment.<name> */
    const char *yaml; /* its parameters, one YAML flow mapping */
} bench_op;

/* Same ranges as peer.py; see docs/performance.md for how each maps. */
static const bench_op OPS[] = {
    {"rotate", "{max_deg: 15, border: edge}"},
    {"scale", "{min: 0.8, max: 1.2, border: edge}"},
    {"translate", "{max_frac: 0.1, border: edge}"},
    {"shear", "{max_deg: 10, border: edge}"},
    {"perspective", "{max_frac: 0.08, border: edge}"},
    {"aspect", "{min_ratio: 0.8, max_ratio: 1.25, border: edge}"},
    {"flip", "{axis: horizontal}"},
    {"elastic", "{max_alpha: 0.02, cells: 4, border: edge}"},
    {"curvature", "{min_strength: 0.2, max_strength: 0.7}"},
    {"brightness", "{max_delta: 0.2}"},
    {"contrast", "{min: 0.7, max: 1.4}"},
    {"gamma", "{min: 0.7, max: 1.5}"},
    {"hue", "{max_deg: 15}"},
    {"saturation", "{min: 0.6, max: 1.4}"},
    {"temperature", "{max_shift: 0.12}"},
    {"illumination", "{shape: linear, min_strength: 0.1, max_strength: 0.5}"},
    {"gaussian_blur", "{min_sigma: 0.3, max_sigma: 2}"},
    {"motion_blur", "{min_len: 3, max_len: 12}"},
    {"gaussian_noise", "{min_sigma: 2, max_sigma: 10, per_channel: true}"},
    {"sensor_noise", "{max_shot: 12, max_read: 4, chroma: 0.4}"},
    {"jpeg", "{min_quality: 30, max_quality: 90}"},
    {"downscale", "{min_factor: 0.25, max_factor: 0.75, interp: bilinear}"},
    {"occlusion", "{min_count: 1, max_count: 2, min_area: 0.02, max_area: 0.1, shape: rect, fill: colour}"},
    {"skin", "{}"},
};
#define N_OPS (sizeof OPS / sizeof OPS[0])

/* More parameter sets for --hash: the extremes of the ops whose code has
 * size-dependent paths. */
static const bench_op HASH_EXTRA[] = {
    {"gaussian_blur", "{min_sigma: 0, max_sigma: 0.2}"},
    {"gaussian_blur", "{min_sigma: 2, max_sigma: 8}"},
    {"gaussian_blur", "{min_sigma: 20, max_sigma: 50}"},
    {"downscale", "{min_factor: 0.01, max_factor: 0.1, interp: bilinear}"},
    {"downscale", "{min_factor: 0.8, max_factor: 1, interp: bilinear}"},
    {"downscale", "{min_factor: 0.2, max_factor: 0.9, interp: nearest}"},
    {"contrast", "{min: 0.05, max: 10}"},
    {"flip", "{axis: vertical}"},
    {"perspective", "{max_frac: 0.25, border: reflect}"},
    {"perspective", "{max_frac: 0.2, border: constant}"},
    {"jpeg", "{min_quality: 1, max_quality: 100}"},
};
#define N_HASH_EXTRA (sizeof HASH_EXTRA / sizeof HASH_EXTRA[0])

/* The pipeline: configs/quickstart.yaml's list of ops and probabilities.
 * `common`: albumentations has a peer (peer.py's pipeline is the common
 * steps in the same order with the same probabilities). */
typedef struct bench_step {
    const char *name;
    double p;
    const char *yaml;
    int common;
} bench_step;

static const bench_step PIPELINE[] = {
    {"skin", 0.6, "{}", 0},
    {"rotate", 0.7, "{max_deg: 15}", 1},
    {"scale", 0.5, "{min: 0.85, max: 1.15}", 1},
    {"perspective", 0.3, "{max_frac: 0.06}", 1},
    {"curvature", 0.3, "{}", 0},
    {"brightness", 0.5, "{max_delta: 0.15}", 1},
    {"contrast", 0.5, "{}", 1},
    {"temperature", 0.3, "{}", 1},
    {"illumination", 0.3, "{}", 1},
    {"gaussian_blur", 0.3, "{max_sigma: 1.5}", 1},
    {"sensor_noise", 0.4, "{}", 1},
    {"jpeg", 0.4, "{min_quality: 40}", 1},
};
#define N_STEPS (sizeof PIPELINE / sizeof PIPELINE[0])

/* ---- op handles ------------------------------------------------------------- */

typedef struct op_handle {
    const char *name;
    const aigtatt_augment_op_vtable *vt;
    aigtatt_params *params;
    aigtatt_cfg *cfg;
} op_handle;

static int op_open(op_handle *h, const char *name, const char *yaml)
{
    char full[96];
    snprintf(full, sizeof full, "augment.%s", name);
    memset(h, 0, sizeof *h);
    h->name = name;
    const aigtatt_component_desc *c = H->find_component(AIGTATT_KIND_AUGMENT_OP, full);
    if (!c) {
        fprintf(stderr, "bench_augment: no op %s in the loaded plugins\n", full);
        return -1;
    }
    h->vt = c->vtable;
    if (aigtatt_cfg_load_string(yaml, strlen(yaml), full, &h->cfg) != AIGTATT_OK ||
        H->params_parse(h->cfg, c, &h->params) != AIGTATT_OK ||
        (h->vt->check && h->vt->check(h->params) != AIGTATT_OK)) {
        fprintf(stderr, "bench_augment: %s %s: %s\n", full, yaml, H->last_error());
        return -1;
    }
    return 0;
}

static void op_close(op_handle *h)
{
    H->params_free(h->params);
    aigtatt_cfg_free(h->cfg);
}

static int op_apply(const op_handle *h, uint64_t seed, const aigtatt_image *in, aigtatt_image **out)
{
    char js[2048];
    aigtatt_rng *rng = H->rng_new(seed);
    int rc = h->vt->apply(h->params, rng, in, out, js, sizeof js);
    H->rng_free(rng);
    if (rc != AIGTATT_OK)
        fprintf(stderr, "bench_augment: augment.%s failed: %s\n", h->name, H->last_error());
    return rc;
}

/* ---- timing ------------------------------------------------------------------ */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Wall time, for the pipeline on several threads. */
static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* CPU time of the process (all its threads), for the one-thread op rows:
 * other work on the machine (a build, another benchmark) takes turns on
 * the core but does not count, so the rows stay comparable on a busy
 * machine. peer.py counts the same way (time.process_time). */
static double cpu_now(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* Calls the op until `min_time` seconds of the process's CPU time passed
 * (and at least 5 times) after 3 untimed warm-up calls; returns images per
 * CPU second, or -1. */
static double time_op(const op_handle *h, const aigtatt_image *in, double min_time)
{
    uint64_t seed = 1;
    for (int i = 0; i < 3; i++) {
        aigtatt_image *o = NULL;
        if (op_apply(h, seed++, in, &o))
            return -1;
        H->image_free(o);
    }
    long n = 0;
    double t0 = cpu_now(), t;
    do {
        aigtatt_image *o = NULL;
        if (op_apply(h, seed++, in, &o))
            return -1;
        H->image_free(o);
        n++;
        t = cpu_now();
    } while (n < 5 || t - t0 < min_time);
    return (double)n / (t - t0);
}

/* ---- pipeline -------------------------------------------------------------- */

typedef struct pipe_ctx {
    op_handle steps[N_STEPS];
    const aigtatt_image *in;
    uint64_t base;
    int common_only; /* leave out the steps albumentations has no peer for */
} pipe_ctx;

/* One variation: each step with its probability, each drawing from its own
 * generator (as augment.pipeline does). */
static int pipe_one(void *vctx, size_t i)
{
    pipe_ctx *c = vctx;
    uint64_t seed = H->seed_derive(c->base, "bench", i);
    aigtatt_rng *coin = H->rng_new(seed);
    const aigtatt_image *cur = c->in;
    aigtatt_image *owned = NULL;
    int rc = AIGTATT_OK;
    for (size_t s = 0; s < N_STEPS && rc == AIGTATT_OK; s++) {
        if (H->rng_uniform(coin) >= PIPELINE[s].p || (c->common_only && !PIPELINE[s].common))
            continue;
        aigtatt_image *next = NULL;
        rc = op_apply(&c->steps[s], H->seed_derive(seed, PIPELINE[s].name, s), cur, &next);
        if (rc == AIGTATT_OK) {
            H->image_free(owned);
            owned = next;
            cur = next;
        }
    }
    H->rng_free(coin);
    H->image_free(owned);
    return rc;
}

static double time_pipeline(pipe_ctx *c, int jobs, size_t n)
{
    aigtatt_pool_set_jobs(jobs);
    c->base = 7;
    if (aigtatt_parallel_for(jobs * 2, pipe_one, c) != AIGTATT_OK) /* warm-up */
        return -1;
    c->base = 42;
    double t0 = now();
    if (aigtatt_parallel_for(n, pipe_one, c) != AIGTATT_OK)
        return -1;
    return (double)n / (now() - t0);
}

/* ---- the test picture ----------------------------------------------------- */

/* A tattoo-like 8-bit RGB picture: warm skin tone with a soft light
 * gradient, dark line work (rings, spokes, a wavy band) and some shading. */
static aigtatt_image *make_picture(int size)
{
    aigtatt_image *img = aigtatt_image_new(size, size, 3);
    if (!img)
        return NULL;
    const double c = size / 2.0;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            double dx = x + 0.5 - c, dy = y + 0.5 - c, r = hypot(dx, dy) / size, a = atan2(dy, dx);
            double light = 1.0 - 0.15 * (double)(x + y) / (2.0 * size);
            double ink = 0;
            if (fabs(r - 0.30) < 0.012 || fabs(r - 0.22) < 0.006 || fabs(r - 0.38) < 0.004)
                ink = 1; /* rings */
            if (r > 0.22 && r < 0.30 && fabs(sin(a * 12)) < 0.08)
                ink = 1; /* spokes */
            if (r < 0.2 && fmod(fabs(dx) + fabs(dy), size / 24.0) < size / 96.0)
                ink = 0.6; /* shaded diamonds */
            double wave = c + 0.42 * size * 0.5 * sin(x * 6.0 / size * M_PI);
            if (fabs(y - (wave + 0.38 * size)) < size / 160.0 + 1)
                ink = 1;
            double skin[3] = {224, 178, 146};
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * 3;
            for (int k = 0; k < 3; k++) {
                double v = skin[k] * light * (1 - 0.85 * ink) + (ink > 0 ? 10 * k : 0);
                p[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
            }
        }
    return img;
}

/* ---- --hash ------------------------------------------------------------------ */

static int wanted(const char *list, const char *name);

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* A w x h picture of c channels with smooth areas, edges and noise. */
static aigtatt_image *hash_picture(int w, int h, int c)
{
    aigtatt_image *img = aigtatt_image_new(w, h, c);
    if (!img)
        return NULL;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(w * 131 + h * 7 + c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                double v = 128 + 90 * sin(x * 0.07 + k) * cos(y * 0.05 - k) + (((x / 9 + y / 7) & 1) ? 30 : -30);
                v += (double)(s >> 59) - 16;
                img->data[(size_t)y * img->stride + (size_t)x * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return img;
}

static int run_hash(const char *path, const char *ops)
{
    static const int shapes[][2] = {{1, 9}, {9, 1}, {7, 5}, {33, 17}, {64, 48}, {100, 3}, {131, 77}, {512, 512}};
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_augment: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int failed = 0;
    for (size_t i = 0; i < N_OPS + N_HASH_EXTRA; i++) {
        const bench_op *op = i < N_OPS ? &OPS[i] : &HASH_EXTRA[i - N_OPS];
        if (!wanted(ops, op->name))
            continue;
        op_handle h;
        if (op_open(&h, op->name, op->yaml)) {
            failed = 1;
            continue;
        }
        for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
            for (int c = 1; c <= 4; c++) {
                if (c == 2)
                    continue;
                aigtatt_image *in = hash_picture(shapes[sh][0], shapes[sh][1], c);
                for (uint64_t seed = 1; in && seed <= 4; seed++) {
                    char js[2048];
                    aigtatt_rng *rng = H->rng_new(seed * 1000003);
                    aigtatt_image *o = NULL;
                    int rc = h.vt->apply(h.params, rng, in, &o, js, sizeof js);
                    H->rng_free(rng);
                    uint64_t hv = 0xcbf29ce484222325ull;
                    if (rc == AIGTATT_OK) {
                        hv = fnv(hv, &o->width, sizeof o->width);
                        hv = fnv(hv, &o->height, sizeof o->height);
                        hv = fnv(hv, &o->channels, sizeof o->channels);
                        for (int y = 0; y < o->height; y++)
                            hv = fnv(hv, o->data + (size_t)y * o->stride, (size_t)o->width * (size_t)o->channels);
                        H->image_free(o);
                    } else {
                        snprintf(js, sizeof js, "error %d", rc);
                    }
                    fprintf(f, "%s %s %dx%dx%d %llu %016llx %s\n", op->name, op->yaml, shapes[sh][0], shapes[sh][1],
                            c, (unsigned long long)seed, (unsigned long long)hv, js);
                }
                aigtatt_image_free(in);
            }
        op_close(&h);
    }
    fclose(f);
    return failed;
}

static int run_dump(const char *dir, const char *ops, aigtatt_image *img, uint64_t seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/input.png", dir);
    if (aigtatt_image_save(img, path, 0) != AIGTATT_OK) {
        fprintf(stderr, "bench_augment: %s\n", aigtatt_last_error());
        return 1;
    }
    int failed = 0;
    for (size_t i = 0; i < N_OPS; i++) {
        if (!wanted(ops, OPS[i].name))
            continue;
        op_handle h;
        if (op_open(&h, OPS[i].name, OPS[i].yaml)) {
            failed = 1;
            continue;
        }
        char js[2048];
        aigtatt_rng *rng = H->rng_new(seed);
        aigtatt_image *o = NULL;
        int rc = h.vt->apply(h.params, rng, img, &o, js, sizeof js);
        H->rng_free(rng);
        op_close(&h);
        if (rc != AIGTATT_OK) {
            fprintf(stderr, "bench_augment: augment.%s failed: %s\n", OPS[i].name, H->last_error());
            failed = 1;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s.png", dir, OPS[i].name);
        if (aigtatt_image_save(o, path, 0) != AIGTATT_OK) {
            fprintf(stderr, "bench_augment: %s\n", aigtatt_last_error());
            failed = 1;
        }
        H->image_free(o);
        snprintf(path, sizeof path, "%s/%s.json", dir, OPS[i].name);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%s\n", js);
            fclose(f);
        }
    }
    return failed;
}

/* ---- main ------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_augment [--plugin PATH] [--size N] [--min-time S] [--input PNG]\n"
            "                     [--write-input PNG] [--ops a,b,...] [--jobs N]\n"
            "                     [--pipeline-images N] [--tsv FILE] [--list] [--hash FILE]\n"
            "                     [--dump DIR] [--seed N]\n");
}

static int wanted(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *plugin = AIGTATT_BENCH_PLUGIN_DIR "/aigtatt_augment.so";
    const char *input = NULL, *write_input = NULL, *ops = NULL, *tsv_path = NULL, *hash_path = NULL, *dump = NULL;
    uint64_t dump_seed = 1;
    int size = 512, jobs = (int)sysconf(_SC_NPROCESSORS_ONLN), list = 0;
    double min_time = 1.0;
    long pipe_images = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--list")) {
            list = 1;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--plugin"))
            plugin = v;
        else if (!strcmp(a, "--size"))
            size = atoi(v);
        else if (!strcmp(a, "--min-time"))
            min_time = atof(v);
        else if (!strcmp(a, "--input"))
            input = v;
        else if (!strcmp(a, "--write-input"))
            write_input = v;
        else if (!strcmp(a, "--ops"))
            ops = v;
        else if (!strcmp(a, "--jobs"))
            jobs = atoi(v);
        else if (!strcmp(a, "--pipeline-images"))
            pipe_images = atol(v);
        else if (!strcmp(a, "--tsv"))
            tsv_path = v;
        else if (!strcmp(a, "--hash"))
            hash_path = v;
        else if (!strcmp(a, "--dump"))
            dump = v;
        else if (!strcmp(a, "--seed"))
            dump_seed = strtoull(v, NULL, 10);
        else {
            usage();
            return 2;
        }
    }
    if (list) {
        for (size_t i = 0; i < N_OPS; i++)
            printf("%s\t%s\n", OPS[i].name, OPS[i].yaml);
        return 0;
    }
    if (size < 16 || jobs < 1 || min_time <= 0) {
        usage();
        return 2;
    }

    aigtatt_log_set_level(AIGTATT_LOG_WARN);
    H = aigtatt_host_get();
    if (aigtatt_registry_load_file(plugin) != AIGTATT_OK) {
        fprintf(stderr, "bench_augment: cannot load %s: %s\n", plugin, aigtatt_last_error());
        return 1;
    }
    if (hash_path)
        return run_hash(hash_path, ops);

    aigtatt_image *img = NULL;
    if (input) {
        aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3};
        if (aigtatt_image_load(input, &o, &img) != AIGTATT_OK) {
            fprintf(stderr, "bench_augment: %s\n", aigtatt_last_error());
            return 1;
        }
        if (img->width != size || img->height != size) {
            aigtatt_image *r = aigtatt_image_resize(img, size, size);
            aigtatt_image_free(img);
            img = r;
        }
    } else {
        img = make_picture(size);
    }
    if (!img) {
        fprintf(stderr, "bench_augment: %s\n", aigtatt_last_error());
        return 1;
    }
    if (write_input && aigtatt_image_save(img, write_input, 0) != AIGTATT_OK) {
        fprintf(stderr, "bench_augment: %s\n", aigtatt_last_error());
        return 1;
    }

    if (dump)
        return run_dump(dump, ops, img, dump_seed);

    FILE *tsv = NULL;
    if (tsv_path && !(tsv = fopen(tsv_path, "w"))) {
        fprintf(stderr, "bench_augment: %s: %s\n", tsv_path, strerror(errno));
        return 1;
    }
    printf("aigtatt augment ops, %dx%d RGB, one thread (img/s)\n", size, size);
    int failed = 0;
    for (size_t i = 0; i < N_OPS; i++) {
        if (!wanted(ops, OPS[i].name))
            continue;
        op_handle h;
        double r = -1;
        if (op_open(&h, OPS[i].name, OPS[i].yaml) == 0) {
            r = time_op(&h, img, min_time);
            op_close(&h);
        }
        if (r < 0) {
            failed = 1;
            continue;
        }
        printf("  %-16s %10.1f\n", OPS[i].name, r);
        fflush(stdout);
        if (tsv)
            fprintf(tsv, "%s\t%.3f\n", OPS[i].name, r);
    }

    if (wanted(ops, "pipeline")) {
        pipe_ctx c;
        memset(&c, 0, sizeof c);
        c.in = img;
        int ok = 1;
        for (size_t s = 0; s < N_STEPS; s++)
            ok = ok && op_open(&c.steps[s], PIPELINE[s].name, PIPELINE[s].yaml) == 0;
        /* First the steps both libraries have (compared with peer.py), then
         * the whole list of configs/quickstart.yaml. */
        for (int common = 1; ok && common >= 0; common--) {
            c.common_only = common;
            /* About min_time * 3 seconds on one thread by default. */
            double one = time_pipeline(&c, 1, 8);
            size_t n = pipe_images > 0 ? (size_t)pipe_images
                                       : (size_t)fmax(16, ceil(one * min_time * 3 * jobs));
            double r1 = time_pipeline(&c, 1, n / (size_t)jobs > 8 ? n / (size_t)jobs : 8);
            double rn = time_pipeline(&c, jobs, n);
            ok = one > 0 && r1 > 0 && rn > 0;
            if (!ok)
                break;
            printf("augment pipeline, %s\n", common ? "quickstart's ops that albumentations also has"
                                                   : "all of configs/quickstart.yaml's ops");
            printf("  %-16s %10.1f\n", "1 thread", r1);
            printf("  %-16s %10.1f   (%d threads, %zu images)\n", "all cores", rn, jobs, n);
            if (tsv) {
                const char *key = common ? "pipeline" : "pipeline-full";
                fprintf(tsv, "%s:1\t%.3f\n", key, r1);
                fprintf(tsv, "%s:N\t%.3f\n", key, rn);
            }
        }
        for (size_t s = 0; s < N_STEPS; s++)
            if (c.steps[s].cfg)
                op_close(&c.steps[s]);
        failed |= !ok;
    }
    if (tsv)
        fclose(tsv);
    aigtatt_image_free(img);
    return failed;
}
