/* The shipped experiments: configs/dataset.yaml validates, and
 * configs/quickstart.yaml runs end to end, far above chance; its dataset
 * part, run again in another folder, gives the same bytes. Needs
 * image.procedural (cairo); skipped where that plugin is not built. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_helpers.h"

static char *dir;
static void setup(void) { dir = ds_tmpdir(); }
static void teardown(void)
{
    ds_rmtree(dir);
    free(dir);
}
TestSuite(configs, .init = setup, .fini = teardown, .timeout = 600);

static const char *src(void)
{
    const char *s = getenv("AIGTATT_TEST_SOURCE_DIR");
    return s ? s : ".";
}

static int have_procedural(void)
{
    char *out = NULL;
    int rc = ds_sh(&out, "'%s' plugins info image.procedural", ds_cli());
    free(out);
    return rc == 0;
}

Test(configs, dataset_yaml_has_the_seed_study_shape)
{
    if (!have_procedural())
        cr_skip_test("image.procedural is not built (no cairo)");
    char *out = NULL;
    int rc = ds_sh(&out, "'%s' validate '%s/configs/dataset.yaml'", ds_cli(), src());
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char p[4096];
    snprintf(p, sizeof p, "%s/configs/dataset.yaml", src());
    char *y = ds_read(p);
    cr_assert_not_null(strstr(y, "count: 250"));
    cr_assert_not_null(strstr(y, "variations: 20"));
    cr_assert_not_null(strstr(y, "width: 1024"));
    free(y);
}

/* The main job: the whole quickstart (generate -> train -> embed -> eval)
 * once, whose Rank-1 on the held-out identities must be far above chance;
 * then its dataset part alone (the file cut before the training node) in
 * another workdir, which must give the same bytes. */
Test(configs, quickstart_runs_and_reproduces, .timeout = 900)
{
    if (!have_procedural())
        cr_skip_test("image.procedural is not built (no cairo)");
    char *out = NULL, path[4096];
#ifdef DS_SANITIZE
    /* The sanitizers look for memory errors, not accuracy: two epochs run
     * every code path of training at a fraction of the (5x slower) time. */
    const char *epochs = " --set train.epochs=2";
#else
    const char *epochs = "";
#endif
    int rc = ds_sh(&out, "'%s' -q run '%s/configs/quickstart.yaml' --plain --workdir '%s/w0'%s", ds_cli(), src(), dir,
                   epochs);
    cr_assert_eq(rc, 0, "quickstart failed: %s", out);
    free(out);
    char *mdir = ds_port_dir(dir, "w0", "eval", "metrics");
    snprintf(path, sizeof path, "%s/metrics.json", mdir);
    json_error_t je;
    json_t *mj = json_load_file(path, 0, &je);
    cr_assert(mj, "%s: %s", path, je.text);
    json_t *cs = json_object_get(mj, "closed_set");
    double gallery = (double)json_integer_value(json_object_get(cs, "gallery_size"));
    double r1 = json_real_value(json_object_get(json_object_get(json_object_get(cs, "rank"), "1"), "mean"));
    cr_assert(gallery >= 10, "the quickstart tests on %g identities", gallery);
    /* chance is 1/gallery; a trained model must do several times better */
#ifndef DS_SANITIZE
    cr_assert(r1 >= 3.0 / gallery, "Rank-1 %.3f is not far above chance (%.3f)", r1, 1.0 / gallery);
#endif
    cr_log_info("quickstart: Rank-1 %.3f over %g test identities (chance %.3f)", r1, gallery, 1.0 / gallery);
    json_decref(mj);
    free(mdir);

    snprintf(path, sizeof path, "%s/configs/quickstart.yaml", src());
    char *y = ds_read(path);
    cr_assert(y);
    char *cut = strstr(y, "\n  train:");
    cr_assert(cut, "configs/quickstart.yaml has no train node");
    cut[1] = '\0';
    ds_write(dir, "dataset-only.yaml", y);
    free(y);
    rc = ds_sh(&out, "cd '%s' && '%s' -q run dataset-only.yaml --plain --workdir '%s/w1'", dir, ds_cli(), dir);
    cr_assert_eq(rc, 0, "dataset part failed: %s", out);
    free(out);
    char *d0 = ds_port_dir(dir, "w0", "dataset", "images"), *d1 = ds_port_dir(dir, "w1", "dataset", "images");
    json_t *m = ds_manifest(d0);
    /* 40 identities x (original + crop + 6 variations). */
    cr_assert_eq(json_array_size(m), 40 * 8, "records: %zu", json_array_size(m));
    json_decref(m);
    char h0[65], h1[65];
    ds_tree_hash(d0, NULL, h0);
    ds_tree_hash(d1, NULL, h1);
    cr_assert_str_eq(h0, h1, "two quickstart runs differ");
    free(d0);
    free(d1);
}
