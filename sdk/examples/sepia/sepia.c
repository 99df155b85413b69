/* example.sepia: a complete out-of-tree augmenter node for aigtatt.
 *
 * It reads every image of its "images" input, tones it sepia with a
 * strength drawn per image from [min_strength, max_strength] (seeded, so
 * reruns are identical), writes the result and records what it drew. It
 * uses nothing but the SDK headers and the host table. */
#include <aigtatt/aigtatt.h>

#include <stdio.h>

static const aigtatt_host *host;

typedef struct job {
    aigtatt_run *run;
    aigtatt_set *set;
    const char *out_dir;
    double lo, hi;
    aigtatt_progress *progress;
} job;

static unsigned char clamp8(double v) { return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5); }

/* One image; called on the host's worker threads. */
static int tone_one(void *ctx, size_t i)
{
    job *j = ctx;
    const aigtatt_record *in = host->set_record(j->set, i);
    if (!in->path)
        return AIGTATT_OK; /* a record without a file (a prompt): nothing to tone */
    char src[4096], dst[4096], meta[128];
    int rc = host->set_path(j->set, i, src, sizeof src);
    if (rc)
        return rc;
    aigtatt_image_load_opts opts = {.struct_size = sizeof opts, .channels = 3};
    aigtatt_image *img;
    rc = host->image_load(src, &opts, &img);
    if (rc)
        return rc;
    /* A per-record seed: the same record gets the same strength however the
     * work is spread over threads. */
    aigtatt_rng *rng = host->rng_new(host->seed_derive(host->run_seed(j->run), in->id, 0));
    if (!rng) {
        host->image_free(img);
        host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    double s = j->lo + (j->hi - j->lo) * host->rng_uniform(rng);
    host->rng_free(rng);
    for (int32_t y = 0; y < img->height; y++) {
        unsigned char *p = img->data + (size_t)y * img->stride;
        for (int32_t x = 0; x < img->width; x++, p += 3) {
            double r = p[0], g = p[1], b = p[2];
            double sr = 0.393 * r + 0.769 * g + 0.189 * b;
            double sg = 0.349 * r + 0.686 * g + 0.168 * b;
            double sb = 0.272 * r + 0.534 * g + 0.131 * b;
            p[0] = clamp8(r + s * (sr - r));
            p[1] = clamp8(g + s * (sg - g));
            p[2] = clamp8(b + s * (sb - b));
        }
    }
    snprintf(dst, sizeof dst, "%s/%s", j->out_dir, in->path);
    /* Same layout as the input (<identity>/<name>); image_save creates the
     * folders. */
    rc = host->image_save(img, dst, 92);
    host->image_free(img);
    if (rc)
        return rc;
    snprintf(meta, sizeof meta, "{\"sepia_strength\": %.6f}", s);
    aigtatt_record out = AIGTATT_RECORD_INIT;
    out.id = in->id;
    out.identity = in->identity;
    out.role = in->role;
    out.path = in->path;
    out.text = in->text;
    out.source = in->id;
    out.split = in->split;
    out.meta_json = meta;
    rc = host->output_add(j->run, "images", &out);
    host->progress_add(j->progress, 1, 0);
    return rc;
}

static int sepia_check(const aigtatt_params *p)
{
    if (host->param_float(p, "min_strength") > host->param_float(p, "max_strength")) {
        host->set_error("min_strength must not exceed max_strength");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static int sepia_run(aigtatt_run *run)
{
    const aigtatt_params *p = host->run_params(run);
    job j = {.run = run,
             .out_dir = host->run_output_dir(run, "images"),
             .lo = host->param_float(p, "min_strength"),
             .hi = host->param_float(p, "max_strength")};
    int rc = host->set_open(run, "images", &j.set);
    if (rc)
        return rc;
    j.progress = host->progress_begin("sepia", host->set_count(j.set));
    rc = host->parallel_for(host->set_count(j.set), tone_one, &j);
    host->progress_end(j.progress);
    host->set_close(j.set);
    return rc;
}

static const aigtatt_param_desc sepia_params[] = {
    {.name = "min_strength", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.5", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "Smallest blend towards sepia (0 = unchanged)."},
    {.name = "max_strength", .type = AIGTATT_PARAM_FLOAT, .default_value = "1.0", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "Largest blend towards sepia (1 = full sepia)."},
    {0}};

static const aigtatt_port_desc images_in[] = {
    {.name = "images", .type = "images", .doc = "Images to tone."}, {0}};
static const aigtatt_port_desc images_out[] = {
    {.name = "images", .type = "images", .doc = "The toned images, same ids and layout."}, {0}};

static const aigtatt_node_vtable sepia_vtable = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = sepia_check,
    .run = sepia_run,
};

static const aigtatt_component_desc sepia = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_AUGMENTER,
    .name = "example.sepia",
    .version = "1.0.0",
    .summary = "Tones images sepia with a seeded random strength (SDK example).",
    .doc = "The example plugin of docs/plugin-guide.md: an augmenter node built out of tree.",
    AIGTATT_PARAMS(sepia_params),
    AIGTATT_PORTS(images_in, images_out),
    .vtable = &sepia_vtable,
};

static const aigtatt_component_desc *const components[] = {&sepia, NULL};

static int init(const aigtatt_host *h)
{
    host = h;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-example-sepia", .version = "1.0.0", .license = "MIT",
                      .description = "Example out-of-tree plugin: a sepia augmenter.",
                      .components = components, .init = init);
