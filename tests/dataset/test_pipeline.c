/* The whole offline chain through the CLI: image.folder -> crop.ink ->
 * augment.pipeline -> dataset.write. Same config and seed give
 * byte-identical trees (whatever the thread count), another seed gives
 * other images, the layout and manifests are the seed study's, and a bad
 * `ops:` entry is reported at its file:line:col. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds_helpers.h"

static char *dir;

static const char *yaml =
    "aigtatt: 1\n"
    "name: ds\n"
    "seed: 42\n"
    "nodes:\n"
    "  imgs: {use: image.folder, params: {path: photos}}\n"
    "  crops: {use: crop.ink, inputs: {images: imgs}, params: {margin: 0.05}}\n"
    "  vars:\n"
    "    use: augment.pipeline\n"
    "    inputs: {images: crops}\n"
    "    params:\n"
    "      variations: 3\n"
    "      ops:\n"
    "        - {op: skin, p: 0.5}\n"
    "        - {op: rotate, p: 0.8, max_deg: 10}\n"
    "        - {op: gaussian_noise, p: 0.5}\n"
    "        - {op: jpeg, p: 0.5}\n"
    "  dataset: {use: dataset.write, inputs: {images: vars}, params: {contact_sheet: 3}}\n";

/* Ink boxes of the six test photos (x, y, w, h). */
static const int boxes[6][4] = {{20, 20, 60, 50}, {70, 60, 70, 60}, {10, 70, 50, 50},
                                {90, 10, 50, 70}, {40, 40, 80, 80}, {60, 80, 90, 50}};

static void setup(void)
{
    dir = ds_tmpdir();
    for (int i = 0; i < 6; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/photos/T%04d.png", dir, i + 1);
        ds_png(p, 160, 140, boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3], i);
    }
    free(ds_write(dir, "ds.yaml", yaml));
}
static void teardown(void)
{
    ds_rmtree(dir);
    free(dir);
}
TestSuite(pipeline, .init = setup, .fini = teardown, .timeout = 300);

static void run_ok(const char *work, const char *extra)
{
    char *out = NULL;
    int rc = ds_run(&out, dir, "ds.yaml", work, extra);
    cr_assert_eq(rc, 0, "run %s failed (%d): %s", work, rc, out);
    free(out);
}

static void hash_of(const char *work, const char *node, char out[65])
{
    char *d = ds_port_dir(dir, work, node, "images");
    cr_assert_eq(access(d, F_OK), 0, "no output %s", d);
    ds_tree_hash(d, NULL, out);
    free(d);
}

Test(pipeline, same_seed_is_byte_identical_other_seed_differs)
{
    run_ok("w1", NULL);
    run_ok("w2", "--jobs 1");
    run_ok("w3", "--set seed=43");
    const char *nodes[] = {"crops", "vars", "dataset"};
    for (int i = 0; i < 3; i++) {
        char a[65], b[65];
        hash_of("w1", nodes[i], a);
        hash_of("w2", nodes[i], b);
        cr_assert_str_eq(a, b, "node %s differs between two runs with the same seed", nodes[i]);
    }
    char a[65], c[65];
    hash_of("w1", "vars", a);
    hash_of("w3", "vars", c);
    cr_assert_str_neq(a, c, "another seed gave the same variations");
    /* Every single variation differs, not just one of them. */
    char *d1 = ds_port_dir(dir, "w1", "vars", "images"), *d3 = ds_port_dir(dir, "w3", "vars", "images");
    int same = 0;
    for (int i = 1; i <= 6; i++)
        for (int k = 1; k <= 3; k++) {
            char p1[4096], p3[4096];
            snprintf(p1, sizeof p1, "%s/T%04d/variation_%d.png", d1, i, k);
            snprintf(p3, sizeof p3, "%s/T%04d/variation_%d.png", d3, i, k);
            char *s1 = ds_read(p1), *s3 = ds_read(p3);
            cr_assert(s1 && s3, "missing %s or %s", p1, p3);
            free(s1);
            free(s3);
            char *o = NULL;
            same += ds_sh(&o, "cmp -s '%s' '%s'", p1, p3) == 0;
            free(o);
        }
    cr_assert_leq(same, 1, "%d of 18 variations are equal under another seed", same);
    free(d1);
    free(d3);
}

Test(pipeline, layout_manifests_and_split)
{
    char *log = NULL;
    int rc = ds_run(&log, dir, "ds.yaml", "w", NULL);
    cr_assert_eq(rc, 0, "%s", log);
    /* the test fraction leaves 0 of 6 identities (below): said at once */
    cr_expect(strstr(log, "the test split is empty: 0.1 of 6 identities rounds to none"), "%s", log);
    free(log);
    char *d = ds_port_dir(dir, "w", "dataset", "images");
    json_t *m = ds_manifest(d);
    cr_assert_eq(json_array_size(m), 6 * 5, "records: %zu", json_array_size(m));
    int per_split[3] = {0, 0, 0};
    for (int i = 1; i <= 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "T%04d", i);
        const char *split = NULL;
        int n = 0;
        for (size_t r = 0; r < json_array_size(m); r++) {
            json_t *o = json_array_get(m, r);
            if (strcmp(json_string_value(json_object_get(o, "identity")), id))
                continue;
            n++;
            const char *s = json_string_value(json_object_get(o, "split"));
            cr_assert_not_null(s);
            if (!split)
                split = s;
            cr_assert_str_eq(s, split, "identity %s spans two splits", id);
        }
        cr_assert_eq(n, 5);
        per_split[!strcmp(split, "train") ? 0 : !strcmp(split, "val") ? 1 : 2]++;
        const char *files[] = {"original.png", "cropped.png", "variation_1.png", "variation_2.png",
                               "variation_3.png"};
        for (int f = 0; f < 5; f++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s/%s/%s", d, split, id, files[f]);
            cr_assert_eq(access(p, F_OK), 0, "missing %s", p);
        }
    }
    /* 0.8 / 0.1 / 0.1 of 6 identities by largest remainder: 5, 1, 0. */
    cr_assert_eq(per_split[0], 5);
    cr_assert_eq(per_split[1], 1);
    cr_assert_eq(per_split[2], 0);
    char p[4096];
    snprintf(p, sizeof p, "%s/dataset.jsonl", d);
    char *text = ds_read(p);
    cr_assert_not_null(text);
    int lines = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"), lines++) {
        json_t *o = json_loads(l, 0, NULL);
        cr_assert_not_null(o, "dataset.jsonl line %d is not JSON", lines + 1);
        const char *keys[] = {"path", "identity", "role", "split", "params"};
        for (int k = 0; k < 5; k++)
            cr_assert_not_null(json_object_get(o, keys[k]), "line %d lacks %s", lines + 1, keys[k]);
        json_decref(o);
    }
    cr_assert_eq(lines, 30);
    free(text);
    snprintf(p, sizeof p, "%s/contact_sheet.png", d);
    cr_assert_eq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/splits.json", d);
    json_t *sj = json_load_file(p, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(sj, "counts"), "train"),
                                                    "identities")), 5);
    json_decref(sj);
    json_decref(m);
    free(d);
}

Test(pipeline, variations_record_their_source_seed_and_every_op)
{
    run_ok("w", NULL);
    char *d = ds_port_dir(dir, "w", "vars", "images");
    json_t *m = ds_manifest(d);
    int variations = 0;
    for (size_t r = 0; r < json_array_size(m); r++) {
        json_t *o = json_array_get(m, r);
        if (strcmp(json_string_value(json_object_get(o, "role")), "variation"))
            continue;
        variations++;
        char src[32];
        snprintf(src, sizeof src, "%s/cropped", json_string_value(json_object_get(o, "identity")));
        cr_assert_str_eq(json_string_value(json_object_get(o, "source")), src);
        json_t *meta = json_object_get(o, "meta");
        cr_assert(json_is_string(json_object_get(meta, "seed")));
        json_t *ops = json_object_get(meta, "ops");
        cr_assert_eq(json_array_size(ops), 4);
        const char *names[] = {"skin", "rotate", "gaussian_noise", "jpeg"};
        for (size_t k = 0; k < 4; k++) {
            json_t *op = json_array_get(ops, k);
            cr_assert_str_eq(json_string_value(json_object_get(op, "op")), names[k]);
            int applied = json_is_true(json_object_get(op, "applied"));
            cr_assert_eq(applied, json_object_get(op, "params") != NULL);
            if (applied && k == 1) {
                double deg = json_number_value(json_object_get(json_object_get(op, "params"), "deg"));
                cr_assert(deg >= -10 && deg <= 10, "rotate deg %g outside [-10, 10]", deg);
            }
        }
    }
    cr_assert_eq(variations, 18);
    json_decref(m);
    free(d);
}

Test(pipeline, crops_hold_the_ink)
{
    run_ok("w", NULL);
    char *d = ds_port_dir(dir, "w", "crops", "images");
    json_t *m = ds_manifest(d);
    int crops = 0;
    for (size_t r = 0; r < json_array_size(m); r++) {
        json_t *o = json_array_get(m, r);
        if (strcmp(json_string_value(json_object_get(o, "role")), "cropped"))
            continue;
        int i = atoi(json_string_value(json_object_get(o, "identity")) + 1) - 1;
        json_t *bb = json_object_get(json_object_get(o, "meta"), "bbox");
        int x1 = (int)json_integer_value(json_array_get(bb, 0)), y1 = (int)json_integer_value(json_array_get(bb, 1));
        int x2 = (int)json_integer_value(json_array_get(bb, 2)), y2 = (int)json_integer_value(json_array_get(bb, 3));
        const int *b = boxes[i];
        /* Contains the ink, and no more than the 5% margin plus a few pixels. */
        cr_assert(x1 <= b[0] && y1 <= b[1] && x2 >= b[0] + b[2] && y2 >= b[1] + b[3],
                  "T%04d: crop %d,%d,%d,%d misses ink %d,%d,%d,%d", i + 1, x1, y1, x2, y2, b[0], b[1], b[2], b[3]);
        int slack = b[2] > b[3] ? b[2] / 10 + 6 : b[3] / 10 + 6;
        cr_assert(b[0] - x1 <= slack && b[1] - y1 <= slack && x2 - b[0] - b[2] <= slack && y2 - b[1] - b[3] <= slack,
                  "T%04d: crop %d,%d,%d,%d is loose around %d,%d,%d,%d", i + 1, x1, y1, x2, y2, b[0], b[1], b[2],
                  b[3]);
        crops++;
    }
    cr_assert_eq(crops, 6);
    json_decref(m);
    free(d);
}

/* Replaces the ops list with `entry` (on line 13) and validates. */
static void expect_op_error(const char *entry, const char *want1, const char *want2)
{
    char y[4096];
    snprintf(y, sizeof y,
             "aigtatt: 1\nname: ds\nseed: 42\nnodes:\n  imgs: {use: image.folder, params: {path: photos}}\n"
             "  crops: {use: crop.ink, inputs: {images: imgs}}\n  vars:\n    use: augment.pipeline\n"
             "    inputs: {images: crops}\n    params:\n      variations: 3\n      ops:\n"
             "        - {op: rotate}\n%s\n",
             entry);
    free(ds_write(dir, "bad.yaml", y));
    char *out = NULL;
    int rc = ds_sh(&out, "cd '%s' && '%s' validate bad.yaml", dir, ds_cli());
    cr_assert_eq(rc, 3, "validate gave %d: %s", rc, out);
    cr_assert_not_null(strstr(out, want1), "want '%s' in: %s", want1, out);
    if (want2)
        cr_assert_not_null(strstr(out, want2), "want '%s' in: %s", want2, out);
    free(out);
}

Test(pipeline, bad_ops_are_reported_at_file_line_col)
{
    expect_op_error("        - {op: rotate, max_dg: 10}", "bad.yaml:14:", "max_dg");
    expect_op_error("        - {op: rotat}", "bad.yaml:14:", "did you mean 'rotate'");
    expect_op_error("        - {op: rotate, p: 1.5}", "bad.yaml:14:", "1.5");
    expect_op_error("        - {op: scale, min: 2, max: 1}", "bad.yaml:14:", "'min' (2) is above 'max' (1)");
    expect_op_error("        - {op: jpeg, min_quality: high}", "bad.yaml:14:", "min_quality");
    expect_op_error("        - {p: 0.5}", "bad.yaml:14:", "op: NAME");
    expect_op_error("        - rotate", "bad.yaml:14:", "mapping");
}

/* dataset.write's roles are checked word by word, naming the line. */
Test(pipeline, unknown_dataset_role_is_refused)
{
    char y[2048];
    snprintf(y, sizeof y, "%s", yaml);
    char *c = strstr(y, "params: {contact_sheet: 3}");
    cr_assert(c);
    snprintf(c, sizeof y - (size_t)(c - y), "params: {contact_sheet: 3, roles: [original, crops]}}\n");
    free(ds_write(dir, "roles.yaml", y));
    char *out = NULL;
    int rc = ds_sh(&out, "cd '%s' && '%s' validate roles.yaml 2>&1", dir, ds_cli());
    cr_assert_eq(rc, 3, "validate gave %d: %s", rc, out);
    cr_assert(strstr(out, "roles.yaml:") && strstr(out, "'roles' holds 'crops'"), "%s", out);
    free(out);
}

/* A tall image: crop.ink finds the ink on a reduced copy whose two sides
 * round separately (300 x 1000 -> 154 x 512), so the box must go back to
 * full size per axis; scaling y with x's factor cut the last rows. */
Test(pipeline, tall_image_crop_holds_the_ink)
{
    char p[512];
    snprintf(p, sizeof p, "%s/tall/T0001.png", dir);
    ds_png(p, 300, 1000, 100, 200, 100, 591, 0);
    free(ds_write(dir, "tall.yaml",
                  "aigtatt: 1\nname: tall\nseed: 1\nnodes:\n"
                  "  imgs: {use: image.folder, params: {path: tall}}\n"
                  "  crops: {use: crop.ink, inputs: {images: imgs}, params: {margin: 0}}\n"));
    char *out = NULL;
    int rc = ds_run(&out, dir, "tall.yaml", "wt", NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *d = ds_port_dir(dir, "wt", "crops", "images");
    json_t *m = ds_manifest(d);
    int seen = 0;
    for (size_t r = 0; r < json_array_size(m); r++) {
        json_t *o = json_array_get(m, r);
        if (strcmp(json_string_value(json_object_get(o, "role")), "cropped"))
            continue;
        json_t *bb = json_object_get(json_object_get(o, "meta"), "bbox");
        int x1 = (int)json_integer_value(json_array_get(bb, 0)), y1 = (int)json_integer_value(json_array_get(bb, 1));
        int x2 = (int)json_integer_value(json_array_get(bb, 2)), y2 = (int)json_integer_value(json_array_get(bb, 3));
        cr_expect(x1 <= 100 && y1 <= 200 && x2 >= 200 && y2 >= 791, "crop %d,%d,%d,%d misses ink 100,200,200,791",
                  x1, y1, x2, y2);
        seen++;
    }
    cr_expect_eq(seen, 1);
    json_decref(m);
    free(d);
}

/* The split of "identity" under `seed` in a dataset.jsonl text, or -1. */
static int split_of(const char *jsonl, const char *identity)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\"identity\":\"%s\"", identity);
    const char *l = strstr(jsonl, needle);
    if (!l)
        return -1;
    const char *eol = strchr(l, '\n'), *sp = strstr(l, "\"split\":\"");
    if (!sp || (eol && sp > eol))
        return -1;
    sp += 9;
    return !strncmp(sp, "train", 5) ? 0 : !strncmp(sp, "val", 3) ? 1 : !strncmp(sp, "test", 4) ? 2 : -1;
}

/* Adding an identity moves at most one existing identity across each of
 * the two split boundaries (a shuffle of positions moved about half). */
Test(pipeline, adding_an_identity_barely_moves_the_split)
{
    const char *y = "aigtatt: 1\nname: sp\nseed: 5\nnodes:\n"
                    "  imgs: {use: image.folder, params: {path: few}}\n"
                    "  dataset: {use: dataset.write, inputs: {images: imgs},"
                    " params: {train: 0.6, val: 0.2, test: 0.2, contact_sheet: 0}}\n";
    free(ds_write(dir, "sp.yaml", y));
    for (int i = 0; i < 31; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s/S%04d.png", dir, i < 30 ? "few" : "extra", i);
        ds_png(p, 40, 40, 5, 5, 20, 20, i);
    }
    char *text[2], *out;
    for (int round = 0; round < 2; round++) {
        int rc = ds_sh(&out, "cd '%s' && %s'%s' -q run sp.yaml --plain --workdir '%s/sp%d'", dir,
                       round ? "mv extra/S0030.png few/ && " : "", ds_cli(), dir, round);
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        char *d = ds_port_dir(dir, round ? "sp1" : "sp0", "dataset", "images"), p[4200];
        snprintf(p, sizeof p, "%s/dataset.jsonl", d);
        text[round] = ds_read(p);
        cr_assert_not_null(text[round], "%s", p);
        free(d);
    }
    int moved = 0;
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof id, "S%04d", i);
        int a = split_of(text[0], id), b = split_of(text[1], id);
        cr_assert(a >= 0 && b >= 0, "%s has no split", id);
        moved += a != b;
    }
    cr_log_info("adding one identity moved %d of 30", moved);
    cr_assert_leq(moved, 2, "adding one identity moved %d of 30 identities between splits", moved);
    free(text[0]);
    free(text[1]);
}
