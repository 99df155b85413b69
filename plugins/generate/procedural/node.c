/* image.procedural: one tattoo design per prompt, drawn offline by the
 * procedural renderer (pg_render.h), in parallel on the host's workers.
 *
 * Output layout: <identity>/original.png per prompt, one "original" record
 * each, with the renderer's choices (subject, style, layout, ...) in
 * meta_json so a dataset can be filtered or audited by style. */
#include <aigtatt/aigtatt.h>

#include <stdio.h>
#include <string.h>
#include "pg_render.h"

static const aigtatt_host *host;

typedef struct pg_job {
    aigtatt_run *run;
    aigtatt_set *set;
    const char *out_dir;
    pg_options opt;
    uint64_t seed;
    aigtatt_progress *progress;
} pg_job;

/* An identity becomes a folder name: refuse anything that could escape the
 * output folder or confuse a file system. */
static int safe_name(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 200)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == '/' || *p == '\\' || *p == 0x7F)
            return 0;
    return 1;
}

static int render_one(void *ctx, size_t i)
{
    pg_job *j = ctx;
    if (host->cancelled())
        return AIGTATT_ERR_CANCELLED;
    const aigtatt_record *in = host->set_record(j->set, i);
    if (!in) {
        host->set_error("prompt record %zu is missing", i);
        return AIGTATT_ERR_INVALID;
    }
    const char *ident = in->identity ? in->identity : in->id;
    if (!safe_name(ident)) {
        host->set_error("prompt record '%s' has identity '%s', which cannot be a folder name", in->id,
                        ident ? ident : "(none)");
        return AIGTATT_ERR_INVALID;
    }
    /* one seed per record: the same prompt record gets the same design
     * however the work is spread over threads */
    uint64_t seed = host->seed_derive(j->seed, in->id, 0);
    aigtatt_image *img = host->image_new(j->opt.width, j->opt.height, 3);
    if (!img)
        return AIGTATT_ERR_NOMEM;
    pg_info info;
    int st = pg_render_into(in->text ? in->text : "", seed, &j->opt, img->data, img->stride, &info);
    if (st != PG_OK) {
        host->image_free(img);
        host->set_error("could not render the design for prompt '%s' (%s)", in->id,
                        st == PG_ENOMEM ? "out of memory" : "bad size");
        return st == PG_ENOMEM ? AIGTATT_ERR_NOMEM : AIGTATT_ERR_INVALID;
    }
    char rel[512], path[4096], id[512], meta[1024];
    snprintf(rel, sizeof rel, "%s/original.png", ident);
    snprintf(id, sizeof id, "%s/original", ident);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", j->out_dir, rel) >= sizeof path) {
        host->image_free(img);
        host->set_error("output path for '%s' is too long", in->id);
        return AIGTATT_ERR_INVALID;
    }
    int rc = host->image_save(img, path, 0);
    host->image_free(img);
    if (rc)
        return rc;
    /* the renderer's JSON object, with the seed appended as a string: JSON
     * readers (jansson among them) refuse integers above 2^63 */
    size_t n = strlen(info.json);
    if (n > 1 && info.json[n - 1] == '}') {
        info.json[n - 1] = 0;
        snprintf(meta, sizeof meta, "%s,\"seed\":\"%llu\",\"width\":%d,\"height\":%d}", info.json,
                 (unsigned long long)seed, j->opt.width, j->opt.height);
    } else {
        snprintf(meta, sizeof meta, "{\"seed\":\"%llu\"}", (unsigned long long)seed);
    }
    aigtatt_record out = AIGTATT_RECORD_INIT;
    out.id = id;
    out.identity = ident;
    out.role = "original";
    out.path = rel;
    out.text = in->text;
    out.source = in->id;
    out.split = in->split;
    out.meta_json = meta;
    rc = host->output_add(j->run, "images", &out);
    host->progress_add(j->progress, rc ? 0 : 1, rc ? 1 : 0);
    return rc;
}

static pg_color_mode color_mode(const char *s)
{
    if (!s || !strcmp(s, "auto"))
        return PG_COLOR_AUTO;
    if (!strcmp(s, "none"))
        return PG_COLOR_NONE;
    if (!strcmp(s, "accent"))
        return PG_COLOR_ACCENT;
    return PG_COLOR_FULL;
}

static int procedural_run(aigtatt_run *run)
{
    const aigtatt_params *p = host->run_params(run);
    pg_job j;
    memset(&j, 0, sizeof j);
    j.run = run;
    j.out_dir = host->run_output_dir(run, "images");
    j.seed = host->run_seed(run);
    pg_options_default(&j.opt);
    j.opt.width = (int)host->param_int(p, "width");
    j.opt.height = (int)host->param_int(p, "height");
    j.opt.skin = host->param_bool(p, "skin");
    j.opt.color = color_mode(host->param_string(p, "color"));
    j.opt.stroke_scale = host->param_float(p, "stroke_scale");
    j.opt.detail = host->param_float(p, "detail");
    if (!j.out_dir) {
        host->set_error("no output folder for port 'images'");
        return AIGTATT_ERR;
    }
    int rc = host->set_open(run, "prompts", &j.set);
    if (rc)
        return rc;
    size_t n = host->set_count(j.set);
    if (n == 0)
        host->log(AIGTATT_LOG_WARN, "the prompts input is empty: no designs to draw");
    j.progress = host->progress_begin("designs", n);
    rc = host->parallel_for(n, render_one, &j);
    host->progress_end(j.progress);
    host->set_close(j.set);
    if (rc == AIGTATT_OK && host->cancelled())
        rc = AIGTATT_ERR_CANCELLED;
    return rc;
}

static const aigtatt_param_desc procedural_params[] = {
    {.name = "width", .type = AIGTATT_PARAM_INT, .default_value = "1024", .has_min = 1, .min = 64,
     .has_max = 1, .max = 4096, .doc = "Image width in pixels (SDXL draws 1024)."},
    {.name = "height", .type = AIGTATT_PARAM_INT, .default_value = "1024", .has_min = 1, .min = 64,
     .has_max = 1, .max = 4096, .doc = "Image height in pixels (SDXL draws 1024)."},
    {.name = "skin", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Draw each tattoo on skin (tone, texture, arm curvature and light, ink slightly blurred and "
            "faded) the way SDXL renders \"a tattoo on the forearm\"; false draws flash on paper."},
    {.name = "color", .type = AIGTATT_PARAM_ENUM, .default_value = "auto", .choices = "auto|none|accent|full",
     .doc = "Colour policy: auto lets the prompt's style and colour words decide, none is black and grey "
            "only, accent adds one colour, full allows a palette."},
    {.name = "stroke_scale", .type = AIGTATT_PARAM_FLOAT, .default_value = "1.0", .has_min = 1, .min = 0.25,
     .has_max = 1, .max = 4, .doc = "Multiplies every line width (below 1 finer, above 1 bolder)."},
    {.name = "detail", .type = AIGTATT_PARAM_FLOAT, .default_value = "1.0", .has_min = 1, .min = 0.25,
     .has_max = 1, .max = 3, .doc = "Multiplies the density of stippling and hatching."},
    {0}};

static const aigtatt_port_desc prompts_in[] = {
    {.name = "prompts", .type = "prompts", .doc = "One prompt record per tattoo identity; its text steers the design."},
    {0}};
static const aigtatt_port_desc images_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/original.png per prompt, role \"original\", with the design choices in meta."},
    {0}};

static const aigtatt_node_vtable procedural_vtable = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = NULL,
    .run = procedural_run,
};

static const aigtatt_component_desc procedural = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_IMAGE_SOURCE,
    .name = "image.procedural",
    .version = "1.0.0",
    .summary = "Offline tattoo designs drawn with cairo from the prompt's words (no API, deterministic).",
    .doc = "Draws one design per prompt: mandalas, tribal, geometric and dotwork pieces, roses and "
           "botanicals, animals (wolf, big cats, birds, koi, snakes, butterflies, spiders), skulls, "
           "daggers, hearts, anchors, eyes, compasses, celestial pieces, waves, mountains, feathers, "
           "knots and lettering, in styles from blackwork, fine line and dotwork to American "
           "traditional, neo-traditional, Japanese, sketch, engraving, watercolour and trash polka. "
           "Subject and style words in the prompt pick the design family (the same prompt keeps its "
           "style across seeds); the node seed varies the drawing. Lettering uses a built-in stroke "
           "font, so output is byte-identical on any machine with the same cairo.",
    AIGTATT_PARAMS(procedural_params),
    AIGTATT_PORTS(prompts_in, images_out),
    .vtable = &procedural_vtable,
};

static const aigtatt_component_desc *const components[] = {&procedural, NULL};

static int init(const aigtatt_host *h)
{
    host = h;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-generate", .version = "1.0.0", .license = "MIT",
                      .description = "Procedural, offline tattoo design generation (image.procedural).",
                      .components = components, .init = init);
