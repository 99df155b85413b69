/* The plugin loader: every refusal the loader must make, each against a
 * deliberately broken copy of the fixture plugin, and the good plugin
 * loading beside each broken one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "plugin/registry.h"
#include "util/error.h"

static char path_buf[4096];

static const char *fixture(const char *c)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s/%s.so", th_env("AIGTATT_FIXTURE_DIR"), c, c);
    return path_buf;
}

static void setup(void) { aigtatt_registry_reset(); }
static void teardown(void) { aigtatt_registry_reset(); }

TestSuite(loader, .init = setup, .fini = teardown);

Test(loader, good_plugin_loads_with_components)
{
    cr_assert_eq(aigtatt_registry_load_file(fixture("good")), 0, "%s", aigtatt_last_error());
    const aigtatt_component *c = aigtatt_registry_find("test.emit");
    cr_assert_not_null(c);
    cr_assert_eq(c->desc.kind, AIGTATT_KIND_STEP);
    cr_assert_eq(c->n_params, 9);
    cr_assert_str_eq(c->params[2].choices, "fast|slow|exact");
    cr_assert_not_null(aigtatt_registry_find("test.copy"));
    cr_assert_null(aigtatt_registry_find("test.nothing"));
    /* declared in the ABI 1.0 layout, without no_key */
    const aigtatt_component *slow = aigtatt_registry_find("test.slow");
    cr_assert_not_null(slow, "a component with 1.0-layout parameters was refused: %s", aigtatt_last_error());
    cr_assert_eq(slow->n_params, 2);
    cr_assert_str_eq(slow->params[1].default_value, "100");
    cr_assert_eq(slow->params[1].no_key, 0);
}

/* Loads the good plugin, then the broken case; the good one must survive
 * and the broken one must be refused with `needle` in its reason. */
static void expect_refused(const char *c, const char *needle)
{
    cr_assert_eq(aigtatt_registry_load_file(fixture("good")), 0);
    int rc = aigtatt_registry_load_file(fixture(c));
    cr_assert_neq(rc, 0, "case %s was accepted", c);
    cr_assert(strstr(aigtatt_last_error(), needle), "case %s: '%s' lacks '%s'", c, aigtatt_last_error(), needle);
    cr_assert(strstr(aigtatt_last_error(), fixture(c)), "message must name the file: %s", aigtatt_last_error());
    cr_assert_not_null(aigtatt_registry_find("test.emit"), "the good plugin was taken down");
    cr_assert_null(aigtatt_registry_find("broken.emit"));
    size_t refused = 0;
    for (size_t i = 0; i < aigtatt_registry_plugin_count(); i++)
        refused += !aigtatt_registry_plugin_at(i)->ok;
    cr_assert_eq(refused, 1);
}

/* The fixture is built for the next major at this SDK's minor. */
static const char *next_major(void)
{
    static char s[64];
    snprintf(s, sizeof s, "built for plugin ABI %d.%d", AIGTATT_ABI_MAJOR + 1, AIGTATT_ABI_MINOR);
    return s;
}

Test(loader, wrong_abi_major) { expect_refused("major", next_major()); }
Test(loader, newer_abi_minor) { expect_refused("minor", "newer than this aigtatt"); }
Test(loader, undersized_descriptor) { expect_refused("undersized", "undersized"); }
Test(loader, oversized_descriptor) { expect_refused("oversized", "oversized"); }
Test(loader, missing_entry_symbol) { expect_refused("no_symbol", "exports no 'aigtatt_plugin' symbol"); }
Test(loader, duplicate_component_in_plugin) { expect_refused("duplicate", "declares component broken.emit twice"); }
Test(loader, init_fails) { expect_refused("init", "init function failed"); }

Test(loader, duplicate_component_across_plugins)
{
    cr_assert_eq(aigtatt_registry_load_file(fixture("good")), 0);
    cr_assert_neq(aigtatt_registry_load_file(fixture("dup_other")), 0);
    cr_assert(strstr(aigtatt_last_error(), "already provided by"), "%s", aigtatt_last_error());
    const aigtatt_component *c = aigtatt_registry_find("test.emit");
    cr_assert(strstr(c->plugin->path, "/good/"), "the first plugin keeps its component");
}

Test(loader, init_failure_text_is_kept)
{
    aigtatt_registry_load_file(fixture("init"));
    cr_assert(strstr(aigtatt_last_error(), "init refuses to start"), "%s", aigtatt_last_error());
}

Test(loader, world_writable_folder_refused)
{
    char *dir = th_tmpdir();
    char *out;
    th_sh(&out, "cp '%s' '%s/good.so'", fixture("good"), dir);
    free(out);
    chmod(dir, 0777);
    char so[4096];
    snprintf(so, sizeof so, "%s/good.so", dir);
    cr_assert_neq(aigtatt_registry_load_file(so), 0);
    cr_assert(strstr(aigtatt_last_error(), "writable by other users"), "%s", aigtatt_last_error());
    cr_assert_null(aigtatt_registry_find("test.emit"));
    chmod(dir, 0755);
    aigtatt_registry_reset();
    cr_assert_eq(aigtatt_registry_load_file(so), 0, "%s", aigtatt_last_error());
    th_sh(&out, "rm -rf '%s'", dir);
    free(out);
    free(dir);
}

Test(loader, world_writable_file_refused)
{
    char *dir = th_tmpdir();
    char *out;
    th_sh(&out, "cp '%s' '%s/good.so' && chmod 0666 '%s/good.so'", fixture("good"), dir, dir);
    free(out);
    char so[4096];
    snprintf(so, sizeof so, "%s/good.so", dir);
    cr_assert_neq(aigtatt_registry_load_file(so), 0);
    cr_assert(strstr(aigtatt_last_error(), "file is writable by other users"), "%s", aigtatt_last_error());
    th_sh(&out, "rm -rf '%s'", dir);
    free(out);
    free(dir);
}

Test(loader, not_a_shared_object)
{
    char *dir = th_tmpdir();
    char *so = th_write(dir, "junk.so", "this is not an ELF file\n");
    cr_assert_neq(aigtatt_registry_load_file(so), 0);
    cr_assert(strstr(aigtatt_last_error(), "cannot be loaded"), "%s", aigtatt_last_error());
    char *out;
    th_sh(&out, "rm -rf '%s'", dir);
    free(out);
    free(so);
    free(dir);
}

Test(loader, scan_dir_loads_in_name_order_and_survives_broken)
{
    char *dir = th_tmpdir();
    char *out;
    const char *fx = th_env("AIGTATT_FIXTURE_DIR");
    th_sh(&out, "cp '%s/major/major.so' '%s/a_major.so' && cp '%s/good/good.so' '%s/b_good.so' && "
          "cp '%s/init/init.so' '%s/c_init.so'", fx, dir, fx, dir, fx, dir);
    free(out);
    aigtatt_registry_scan_dir(dir);
    cr_assert_eq(aigtatt_registry_plugin_count(), 3);
    cr_assert(strstr(aigtatt_registry_plugin_at(0)->path, "a_major.so"));
    cr_assert_eq(aigtatt_registry_plugin_at(0)->ok, 0);
    cr_assert_eq(aigtatt_registry_plugin_at(1)->ok, 1);
    cr_assert_eq(aigtatt_registry_plugin_at(2)->ok, 0);
    cr_assert_not_null(aigtatt_registry_find("test.emit"));
    th_sh(&out, "rm -rf '%s'", dir);
    free(out);
    free(dir);
}

Test(loader, missing_component_explains_refused_plugin)
{
    aigtatt_registry_load_file(fixture("init"));
    aigtatt_registry_explain_missing("broken.emit");
    cr_assert(strstr(aigtatt_last_error(), "component 'broken.emit' is unavailable"), "%s", aigtatt_last_error());
    cr_assert(strstr(aigtatt_last_error(), "init function failed"), "%s", aigtatt_last_error());
}

Test(loader, run_naming_a_refused_plugin_fails_clearly)
{
    char *dir = th_tmpdir();
    char *yaml = th_write(dir, "x.yaml", "nodes:\n  a:\n    use: broken.emit\n");
    char *out;
    int rc = th_sh(&out, "AIGTATT_PLUGIN_PATH=%s/init %s validate %s", th_env("AIGTATT_FIXTURE_DIR"),
                   th_env("AIGTATT_BIN"), yaml);
    cr_assert_eq(rc, 3, "exit %d: %s", rc, out);
    cr_assert(strstr(out, "x.yaml:3:10"), "%s", out);
    cr_assert(strstr(out, "init function failed"), "%s", out);
    free(out);
    th_sh(&out, "rm -rf '%s'", dir);
    free(out);
    free(yaml);
    free(dir);
}

Test(loader, plugins_list_shows_refused)
{
    char *out;
    int rc = th_sh(&out, "AIGTATT_PLUGIN_PATH=%s/major:%s/good %s plugins list", th_env("AIGTATT_FIXTURE_DIR"),
                   th_env("AIGTATT_FIXTURE_DIR"), th_env("AIGTATT_BIN"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "test.emit"), "%s", out);
    cr_assert(strstr(out, "refused plugins:"), "%s", out);
    cr_assert(strstr(out, next_major()), "%s", out);
    free(out);
}
