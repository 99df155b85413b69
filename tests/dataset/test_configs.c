/* The shipped experiments: configs/dataset.yaml validates, and
 * configs/quickstart.yaml runs end to end, twice to the same bytes. Needs
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

Test(configs, quickstart_runs_and_reproduces)
{
    if (!have_procedural())
        cr_skip_test("image.procedural is not built (no cairo)");
    char *out = NULL;
    for (int i = 0; i < 2; i++) {
        int rc = ds_sh(&out, "'%s' -q run '%s/configs/quickstart.yaml' --plain --workdir '%s/w%d'", ds_cli(), src(),
                       dir, i);
        cr_assert_eq(rc, 0, "quickstart failed: %s", out);
        free(out);
    }
    char *d0 = ds_port_dir(dir, "w0", "dataset", "images"), *d1 = ds_port_dir(dir, "w1", "dataset", "images");
    json_t *m = ds_manifest(d0);
    /* 12 identities x (original + crop + 4 variations). */
    cr_assert_eq(json_array_size(m), 12 * 6, "records: %zu", json_array_size(m));
    json_decref(m);
    char h0[65], h1[65];
    ds_tree_hash(d0, NULL, h0);
    ds_tree_hash(d1, NULL, h1);
    cr_assert_str_eq(h0, h1, "two quickstart runs differ");
    free(d0);
    free(d1);
}
