/* Online augmentation in train.embedding (`augment:`), built on the host's
 * augmentation chain (host->augment_chain_*), the mechanism
 * augment.pipeline's `ops:` uses too.
 *
 * In process, with the plugin's loader (tr_data.c compiled in) and the
 * real augment.* ops: the chain is deterministic and thread-safe, and the
 * loader's batches repeat for a seed, change with it, change with the
 * chain and equal the plain batches when no op fires. Through the CLI: a
 * training run with `augment:` repeats byte for byte, differs from the
 * same run without it, and a bad entry fails naming file:line:col and
 * the op. The loader's decode and resize against PIL (test `loader`). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "config/params.h"
#include "ds_helpers.h"
#include "host/host.h"
#include "tr.h"
#include "util/error.h"
#include "util/pool.h"

/* tr_data.c's host, set here instead of by the plugin's init */
const aigtatt_host *tr_host;

/* ---- in process ------------------------------------------------------------ */

static const aigtatt_param_desc node_decls[] = {
    {.name = "augment", .type = AIGTATT_PARAM_LIST, .item_type = AIGTATT_PARAM_MAP, .default_value = "[]",
     .doc = "test"},
    {.name = NULL},
};

static const aigtatt_component_desc node_comp = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_TRAINER,
    .name = "test.node",
    .version = "1",
    AIGTATT_PARAMS(node_decls),
};

/* A node's parameters from `yaml` ("augment: [...]"); the chain parsed
 * from them (NULL for an empty list). */
static aigtatt_augment_chain *chain_of(const char *yaml)
{
    aigtatt_cfg *c = NULL;
    cr_assert_eq(aigtatt_cfg_load_string(yaml, strlen(yaml), "node.yaml", &c), AIGTATT_OK, "%s",
                 aigtatt_last_error());
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(c, &node_comp, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_cfg_free(c);
    aigtatt_augment_chain *ch = NULL;
    if (tr_host->cfg_len(tr_host->param_cfg(p, "augment")))
        cr_assert_eq(tr_host->augment_chain_parse(p, "augment", &ch), AIGTATT_OK, "%s", tr_host->last_error());
    aigtatt_params_free(p); /* the chain must not borrow from them */
    return ch;
}

static char *dir;
static tr_items items;

static void setup(void)
{
    ds_load_plugins();
    tr_host = aigtatt_host_get();
    dir = ds_tmpdir();
    items.n = 7;
    items.v = calloc(items.n, sizeof *items.v);
    for (size_t i = 0; i < items.n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/img%zu.png", dir, i);
        /* odd sizes, so the resize after the ops does real work */
        ds_png(p, 70 + 3 * (int)i, 50 + 2 * (int)i, 8, 6, 40, 30, (int)i);
        items.v[i].path = strdup(p);
        items.v[i].label = (int64_t)(i % 3);
    }
}

static void teardown(void)
{
    for (size_t i = 0; i < items.n; i++)
        free(items.v[i].path);
    free(items.v);
    memset(&items, 0, sizeof items);
    ds_rmtree(dir);
    free(dir);
}

#define H_ 24
#define W_ 32
#define BATCH 3

/* loader threads per batch (loader_threads) */
static int workers = 1;

/* Every batch of one epoch over the items (order 6, 5, ..., 0), as the
 * training loop gets them: images and labels concatenated. */
static float *epoch_of(const aigtatt_augment_chain *ch, int shuffle, double flip, uint64_t seed, size_t *n_floats)
{
    size_t order[16];
    for (size_t i = 0; i < items.n; i++)
        order[i] = items.n - 1 - i;
    tr_augment aug = {.chain = ch, .shuffle = shuffle};
    tr_loader *l = NULL;
    cr_assert_eq(tr_loader_start(&items, order, items.n, BATCH, 0, H_, W_, flip, ch ? &aug : NULL, seed, workers, &l),
                 AIGTATT_OK);
    size_t per = (size_t)BATCH * 3 * H_ * W_, nb = (items.n + BATCH - 1) / BATCH;
    float *all = calloc(nb * per, sizeof *all);
    const tr_batch *b;
    int rc = 0;
    size_t k = 0;
    while ((b = tr_loader_next(l, &rc))) {
        cr_assert_lt(k, nb);
        for (int i = 0; i < BATCH; i++)
            cr_assert_eq(b->labels[i], items.v[b->index[i]].label);
        memcpy(all + k * per, b->image, per * sizeof(float));
        k++;
    }
    cr_assert_eq(rc, AIGTATT_OK, "%s", tr_host->last_error());
    cr_assert_eq(k, nb);
    tr_loader_stop(l);
    *n_floats = nb * per;
    return all;
}

static const char *const ops_yaml =
    "augment:\n"
    "  - {op: rotate, p: 0.8, max_deg: 25}\n"
    "  - {op: brightness, p: 0.6, max_delta: 0.3}\n"
    "  - {op: perspective, p: 0.5}\n"
    "  - {op: gaussian_noise, p: 0.5}\n";

Test(online_augment, loader_batches_repeat_per_seed_and_change_with_seed_and_chain, .init = setup,
     .fini = teardown)
{
    aigtatt_augment_chain *ch = chain_of(ops_yaml);
    cr_assert_eq(tr_host->augment_chain_len(ch), 4);
    size_t n = 0, n2 = 0;
    float *a = epoch_of(ch, 0, 0, 11, &n);
    float *a2 = epoch_of(ch, 0, 0, 11, &n2);
    cr_assert_eq(n, n2);
    cr_assert(!memcmp(a, a2, n * sizeof(float)), "the same seed gave different batches");
    float *b = epoch_of(ch, 0, 0, 12, &n2);
    cr_assert(memcmp(a, b, n * sizeof(float)), "another seed gave the same batches");
    float *plain = epoch_of(NULL, 0, 0, 11, &n2);
    cr_assert(memcmp(a, plain, n * sizeof(float)), "the ops changed nothing the network sees");
    /* every image of the epoch went through the ops: each one differs */
    size_t per_img = 3 * H_ * W_, changed = 0;
    for (size_t i = 0; i < items.n; i++)
        changed += memcmp(a + i * per_img, plain + i * per_img, per_img * sizeof(float)) != 0;
    cr_assert_geq(changed, items.n - 2, "only %zu of %zu images changed", changed, items.n);
    float *s = epoch_of(ch, 1, 0, 11, &n2);
    cr_assert(memcmp(a, s, n * sizeof(float)), "augment_shuffle changed nothing");
    float *s2 = epoch_of(ch, 1, 0, 11, &n2);
    cr_assert(!memcmp(s, s2, n * sizeof(float)), "shuffled order is not reproducible");
    /* flip still works, on top of the ops */
    float *f = epoch_of(ch, 0, 1, 11, &n2);
    cr_assert(memcmp(a, f, n * sizeof(float)), "flip: 1 changed nothing");
    free(a);
    free(a2);
    free(b);
    free(plain);
    free(s);
    free(s2);
    free(f);
    tr_host->augment_chain_free(ch);
}

/* loader_threads only changes who loads an image: 1, 2 and 3 threads give
 * the same bytes, with the chain, the flip and a padded last batch (7
 * images in batches of 3). */
Test(online_augment, loader_threads_give_identical_batches, .init = setup, .fini = teardown)
{
    aigtatt_augment_chain *ch = chain_of(ops_yaml);
    size_t n1 = 0, n2 = 0, n3 = 0;
    workers = 1;
    float *a = epoch_of(ch, 0, 0.5, 77, &n1);
    workers = 2;
    float *b = epoch_of(ch, 0, 0.5, 77, &n2);
    workers = 3;
    float *c = epoch_of(ch, 0, 0.5, 77, &n3);
    workers = 1;
    cr_assert_eq(n1, n2);
    cr_assert_eq(n1, n3);
    cr_expect_eq(memcmp(a, b, n1 * sizeof *a), 0, "2 loader threads changed the batches");
    cr_expect_eq(memcmp(a, c, n1 * sizeof *a), 0, "3 loader threads changed the batches");
    free(a);
    free(b);
    free(c);
    tr_host->augment_chain_free(ch);
}

Test(online_augment, ops_that_never_fire_leave_batches_as_plain, .init = setup, .fini = teardown)
{
    aigtatt_augment_chain *ch = chain_of("augment: [{op: rotate, p: 0}, {op: jpeg, p: 0}]\n");
    size_t n = 0, n2 = 0;
    float *a = epoch_of(ch, 0, 0, 3, &n);
    float *plain = epoch_of(NULL, 0, 0, 3, &n2);
    cr_assert(!memcmp(a, plain, n * sizeof(float)), "a chain that applies nothing changed the batches");
    /* a horizontal flip op before the resize ~ the loader's flip after it */
    tr_host->augment_chain_free(ch);
    ch = chain_of("augment: [{op: flip, axis: horizontal}]\n");
    free(a);
    a = epoch_of(ch, 0, 0, 3, &n);
    float *f = epoch_of(NULL, 0, 1, 3, &n2);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - (double)f[i]));
    cr_assert_lt(worst, 1e-3, "flip op before the resize vs flip after it: max difference %g", worst);
    free(a);
    free(f);
    free(plain);
    tr_host->augment_chain_free(ch);
}

/* The chain's own contract: same (seed, image) -> same bytes and JSON on
 * any thread; the JSON names every op in order. */
typedef struct par_ctx {
    const aigtatt_augment_chain *ch;
    const aigtatt_image *img;
    aigtatt_image *out[16];
    char *json[16];
} par_ctx;

static int par_one(void *ctx, size_t i)
{
    par_ctx *c = ctx;
    return tr_host->augment_chain_apply(c->ch, 0, 1000 + i % 4, c->img, &c->out[i], &c->json[i]);
}

Test(online_augment, chain_is_deterministic_across_threads, .init = setup, .fini = teardown)
{
    aigtatt_augment_chain *ch = chain_of(ops_yaml);
    aigtatt_image *img = NULL;
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3};
    cr_assert_eq(tr_host->image_load(items.v[0].path, &o, &img), AIGTATT_OK);
    par_ctx c = {.ch = ch, .img = img};
    cr_assert_eq(tr_host->parallel_for(16, par_one, &c), AIGTATT_OK, "%s", tr_host->last_error());
    for (size_t i = 0; i < 16; i++) {
        aigtatt_image *ref = NULL;
        char *js = NULL;
        cr_assert_eq(tr_host->augment_chain_apply(ch, 0, 1000 + i % 4, img, &ref, &js), AIGTATT_OK);
        cr_assert_eq(ref->width, c.out[i]->width);
        cr_assert_eq(ref->height, c.out[i]->height);
        for (int y = 0; y < ref->height; y++)
            cr_assert(!memcmp(ref->data + (size_t)y * ref->stride, c.out[i]->data + (size_t)y * c.out[i]->stride,
                              (size_t)ref->width * 3), "image %zu differs from its serial run", i);
        cr_assert_str_eq(js, c.json[i]);
        cr_assert(!strncmp(js, "[{\"op\":\"rotate\",\"applied\":", 26), "%s", js);
        cr_assert(strstr(js, "{\"op\":\"gaussian_noise\""), "%s", js);
        tr_host->free_mem(js);
        tr_host->image_free(ref);
    }
    /* seeds 1000 and 1001 differ somewhere */
    cr_assert(strcmp(c.json[0], c.json[1]) || memcmp(c.out[0]->data, c.out[1]->data, c.out[0]->stride),
              "two seeds gave the same result");
    /* without sampled_json, the same image */
    aigtatt_image *q = NULL;
    cr_assert_eq(tr_host->augment_chain_apply(ch, 0, 1000, img, &q, NULL), AIGTATT_OK);
    cr_assert(!memcmp(q->data, c.out[0]->data, (size_t)q->height * q->stride));
    tr_host->image_free(q);
    for (size_t i = 0; i < 16; i++) {
        tr_host->image_free(c.out[i]);
        tr_host->free_mem(c.json[i]);
    }
    tr_host->image_free(img);
    tr_host->augment_chain_free(ch);
}

/* ---- through the CLI ------------------------------------------------------- */

/* 6 identities x 2 variations of 64x64 designs; a resnet18 at 32x32 on
 * one oneDNN thread (bit-reproducible) for 2 epochs of 3 steps. The
 * `augment:` list is on line 28. */
static void write_yaml(const char *d, const char *augment)
{
    char y[4096];
    snprintf(y, sizeof y,
             "aigtatt: 1\nname: tiny\nseed: 7\nnodes:\n"
             "  prompts: {use: prompt.template, params: {count: 6}}\n"
             "  designs: {use: image.procedural, inputs: {prompts: prompts}, params: {width: 64, height: 64}}\n"
             "  crops: {use: crop.ink, inputs: {images: designs}}\n"
             "  variations:\n    use: augment.pipeline\n    inputs: {images: crops}\n"
             "    params: {variations: 2, ops: [{op: rotate, p: 1, max_deg: 10}]}\n"
             "  dataset:\n    use: dataset.write\n    inputs: {images: variations}\n"
             "    params: {train: 0.5, val: 0.25, test: 0.25, contact_sheet: 0}\n"
             "  train:\n    use: train.embedding\n    inputs: {images: dataset}\n    params:\n"
             "      backbone: {use: backbone.resnet, depth: '18', embedding_size: 16}\n"
             "      loss: {use: loss.arcface, s: 16, m: 0.2}\n"
             "      optimizer: {use: optim.sgd, lr: 0.01}\n"
             "      backend: {use: backend.onednn, threads: 1}\n"
             "      epochs: 2\n      batch: 4\n      image_size: 32\n"
             "      select: last\n"
             "      augment: %s\n",
             augment);
    free(ds_write(d, "tiny.yaml", y));
}

/* The loss column of history.csv (malloc'ed). */
static char *losses(const char *mdir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/history.csv", mdir);
    char *h = ds_read(p), *out = calloc(1, 256);
    cr_assert(h && out, "no %s", p);
    for (char *line = strchr(h, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char *c1 = strchr(line + 1, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (c1 && c2)
            snprintf(out + strlen(out), 256 - strlen(out), "%.*s;", (int)(c2 - c1 - 1), c1 + 1);
    }
    free(h);
    return out;
}

Test(online_augment, training_repeats_byte_for_byte_and_differs_without_augment, .timeout = 600)
{
    char *d = ds_tmpdir(), *out = NULL;
    write_yaml(d, "[{op: rotate, p: 0.8, max_deg: 20}, {op: brightness, p: 0.5}, {op: gaussian_blur, p: 0.3}]");
    int rc = ds_sh(&out, "cd '%s' && '%s' run tiny.yaml --plain --workdir '%s/w' 2>&1", d, ds_cli(), d);
    cr_assert_eq(rc, 0, "run failed (%d):\n%s", rc, out);
    cr_assert(strstr(out, "online augmentation: 3 ops"), "%s", out);
    free(out);
    char *mdir = ds_port_dir(d, "w", "train", "model");
    rc = ds_sh(&out, "cp '%s/last.safetensors' '%s/first.safetensors'", mdir, d);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *l1 = losses(mdir);
    free(mdir);

    /* the same seed again: the same batches, so the same weights */
    rc = ds_run(&out, d, "tiny.yaml", "w", "--force train");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    mdir = ds_port_dir(d, "w", "train", "model");
    char *l2 = losses(mdir);
    cr_assert_str_eq(l1, l2, "loss history differs between two runs of one seed");
    rc = ds_sh(&out, "cmp '%s/last.safetensors' '%s/first.safetensors'", mdir, d);
    cr_assert_eq(rc, 0, "two runs of one seed gave different checkpoints: %s", out);
    free(out);
    free(mdir);

    /* the same node and seed without augmentation: other images, other
     * losses (and another cache key: the node runs again) */
    rc = ds_run(&out, d, "tiny.yaml", "w", "--set 'train.augment=[]'");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    mdir = ds_port_dir(d, "w", "train", "model");
    char *l3 = losses(mdir);
    cr_assert(strcmp(l1, l3), "the loss history with augment (%s) equals the one without (%s)", l1, l3);
    free(mdir);
    free(l1);
    free(l2);
    free(l3);
    ds_rmtree(d);
    free(d);
}

static void expect_bad(const char *d, const char *augment, const char *want1, const char *want2)
{
    write_yaml(d, augment);
    char *out = NULL;
    int rc = ds_sh(&out, "cd '%s' && '%s' validate tiny.yaml 2>&1", d, ds_cli());
    cr_assert_eq(rc, 3, "validate gave %d for %s: %s", rc, augment, out);
    cr_assert(strstr(out, want1), "want '%s' in: %s", want1, out);
    cr_assert(strstr(out, want2), "want '%s' in: %s", want2, out);
    free(out);
}

Test(online_augment, bad_entries_name_file_line_col_and_op)
{
    char *d = ds_tmpdir();
    expect_bad(d, "[{op: rotat, p: 0.5}]", "tiny.yaml:28:", "unknown op 'rotat' (did you mean 'rotate'?)");
    expect_bad(d, "[{op: brightness}, {op: rotate, max_deg: 500}]", "tiny.yaml:28:",
               "parameter 'max_deg' of augment.rotate");
    expect_bad(d, "[{op: rotate, max_dg: 5}]", "tiny.yaml:28:", "unknown parameter 'max_dg' for augment.rotate");
    expect_bad(d, "[{op: rotate, p: 1.5}]", "tiny.yaml:28:", "parameter 'p' of augment.rotate");
    expect_bad(d, "[{op: scale, min: 2, max: 1}]", "tiny.yaml:28:", "augment.scale: 'min' (2) is above 'max' (1)");
    expect_bad(d, "[{op: dataset.write}]", "tiny.yaml:28:", "dataset.write is not an augmentation op");
    expect_bad(d, "[{p: 0.5}]", "tiny.yaml:28:", "this entry of 'augment' needs 'op: NAME'");
    expect_bad(d, "[rotate]", "tiny.yaml:28:", "parameter 'augment' of train.embedding: expected a mapping");
    /* and `run` refuses it before training */
    write_yaml(d, "[{op: rotat}]");
    char *out = NULL;
    int rc = ds_run(&out, d, "tiny.yaml", "w", NULL);
    cr_assert(rc != 0 && rc < 128, "exit %d: %s", rc, out);
    cr_assert(strstr(out, "tiny.yaml:28:") && strstr(out, "'rotat'"), "%s", out);
    free(out);
    ds_rmtree(d);
    free(d);
}

/* ---- the loader's preprocessing against PIL ----------------------------------- */

/* tr_load_chw against PIL (the pyenv python's Pillow, or AIGTATT_PYTHON's):
 * Image.open(f).convert('RGB').resize((w, h), BILINEAR), the antialiased
 * triangle filter torchvision applies to PIL images, then ImageNet
 * normalisation. A grey JPEG (no chroma upsampling to differ between
 * libjpeg builds) downscaled by 2.3, where a DCT-scaled decode would
 * resample differently, and a PNG 36x larger than the input. PIL rounds to
 * 8 bits after each of its two passes and the loader does not: up to a
 * grey level, 0.0175 after dividing by the smallest std. */
Test(loader, jpeg_and_png_resize_like_pil, .init = setup, .fini = teardown)
{
    const char *py = getenv("AIGTATT_PYTHON") ? getenv("AIGTATT_PYTHON") : "python3";
    char *out = NULL;
    int rc = ds_sh(&out,
                   "cd '%s' && '%s' -c \"\nimport numpy as np\nfrom PIL import Image\n"
                   "r = np.random.default_rng(5)\n"
                   "g = r.integers(0, 256, (84, 112)).astype(np.float32)\n"
                   "g = np.kron(g, np.ones((4, 4), np.float32))[:331, :447]\n"
                   "Image.fromarray(g.astype(np.uint8), 'L').save('grey.jpg', quality=95)\n"
                   "c = r.integers(0, 256, (1150, 1160, 3)).astype(np.uint8)\n"
                   "Image.fromarray(c, 'RGB').save('big.png')\n"
                   "m = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]\n"
                   "s = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]\n"
                   "for f, w, h in (('grey.jpg', 196, 144), ('big.png', 32, 32)):\n"
                   "    a = np.asarray(Image.open(f).convert('RGB').resize((w, h), Image.BILINEAR), np.float32)\n"
                   "    ((a.transpose(2, 0, 1) / 255 - m) / s).astype('<f4').tofile(f + '.ref')\n\"",
                   dir, py);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    const struct { const char *name; int w, h; } cases[] = {{"grey.jpg", 196, 144}, {"big.png", 32, 32}};
    for (size_t c = 0; c < 2; c++) {
        char p[4200], r[4300];
        snprintf(p, sizeof p, "%s/%s", dir, cases[c].name);
        snprintf(r, sizeof r, "%s.ref", p);
        size_t n = 3 * (size_t)cases[c].w * (size_t)cases[c].h;
        float *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
        FILE *f = fopen(r, "rb");
        cr_assert(f && fread(want, sizeof *want, n, f) == n, "%s", r);
        fclose(f);
        cr_assert_eq(tr_load_chw(p, cases[c].h, cases[c].w, 0, NULL, 0, got), AIGTATT_OK, "%s: %s", p,
                     tr_host->last_error());
        double worst = 0, sum = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)got[i] - want[i]);
            worst = d > worst ? d : worst;
            sum += d;
        }
        cr_log_info("%s -> %dx%d: largest difference from PIL %.4f, mean %.5f", cases[c].name, cases[c].w,
                    cases[c].h, worst, sum / (double)n);
        cr_expect_leq(worst, 1.05 / 255 / 0.224, "%s: %g from PIL", cases[c].name, worst);
        free(got);
        free(want);
    }
}

/* A very tall image (1 x 600000) resized to 224x224 needs the output and a
 * row, not a source-height buffer of the output's width (1.6 GB before):
 * under an address-space limit 256 MiB above the process's size (not with
 * the sanitizers, which reserve terabytes) it loads, every value the
 * image's one colour. */
Test(loader, tall_image_resizes_in_little_memory, .init = setup, .fini = teardown)
{
    static const float mean_[3] = {0.485f, 0.456f, 0.406f}, std_[3] = {0.229f, 0.224f, 0.225f};
    const int tall = 600000;
    aigtatt_image *img = tr_host->image_new(1, tall, 3);
    cr_assert_not_null(img);
    for (int y = 0; y < tall; y++) {
        uint8_t *px = img->data + (size_t)y * img->stride;
        px[0] = 200, px[1] = 40, px[2] = 90;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/tall.png", dir);
    cr_assert_eq(tr_host->image_save(img, p, 0), AIGTATT_OK, "%s", tr_host->last_error());
    tr_host->image_free(img);
    float *got = malloc(sizeof(float) * 3 * 224 * 224);
    cr_assert_not_null(got);
    ds_limit_address_space((size_t)256 << 20);
    cr_assert_eq(tr_load_chw(p, 224, 224, 0, NULL, 0, got), AIGTATT_OK, "%s", tr_host->last_error());
    const uint8_t rgb[3] = {200, 40, 90};
    for (int c = 0; c < 3; c++) {
        float want = (rgb[c] / 255.0f - mean_[c]) / std_[c];
        for (int i = 0; i < 224 * 224; i += 97)
            cr_assert_float_eq(got[c * 224 * 224 + i], want, 1e-4, "channel %d value %d: %g, want %g", c, i,
                               (double)got[c * 224 * 224 + i], (double)want);
    }
    free(got);
}

/* Ctrl-C during loading: the loader stops before the next image instead of
 * finishing the batch, and reports the cancellation. */
Test(loader, stops_between_images_when_cancelled, .init = setup, .fini = teardown)
{
    size_t order[16];
    for (size_t i = 0; i < items.n; i++)
        order[i] = i;
    aigtatt_cancel_request();
    tr_loader *l = NULL;
    cr_assert_eq(tr_loader_start(&items, order, items.n, 7, 0, H_, W_, 0, NULL, 1, 1, &l), AIGTATT_OK);
    int rc = AIGTATT_OK;
    const tr_batch *b = tr_loader_next(l, &rc);
    tr_loader_stop(l);
    aigtatt_cancel_reset();
    cr_expect_null(b, "a cancelled loader still delivered a batch");
    cr_expect_eq(rc, AIGTATT_ERR_CANCELLED, "rc %d (%s)", rc, tr_host->last_error());
}

/* A transparent background reads as white paper, as crop and augment read
 * it, whatever colour the transparent pixels store (here black): every
 * value is ImageNet-normalised white, not black. */
Test(loader, transparent_background_is_white, .init = setup, .fini = teardown)
{
    static const float mean_[3] = {0.485f, 0.456f, 0.406f}, std_[3] = {0.229f, 0.224f, 0.225f};
    aigtatt_image *img = tr_host->image_new(40, 30, 4); /* zeros: transparent black */
    cr_assert_not_null(img);
    char p[4200];
    snprintf(p, sizeof p, "%s/transparent.png", dir);
    cr_assert_eq(tr_host->image_save(img, p, 0), AIGTATT_OK, "%s", tr_host->last_error());
    tr_host->image_free(img);
    float got[3 * 30 * 40];
    cr_assert_eq(tr_load_chw(p, 30, 40, 0, NULL, 0, got), AIGTATT_OK, "%s", tr_host->last_error());
    for (int c = 0; c < 3; c++) {
        float white = (1.0f - mean_[c]) / std_[c];
        for (int i = 0; i < 30 * 40; i++)
            cr_assert_float_eq(got[c * 30 * 40 + i], white, 1e-5, "channel %d value %d: %g, white is %g", c, i,
                               (double)got[c * 30 * 40 + i], (double)white);
    }
}
