/* prompt.template and prompt.file through the CLI: unique prompts in the
 * seed study's shape, identities T0001.., seeds, and errors that name
 * file:line. */
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
TestSuite(prompts, .init = setup, .fini = teardown);

static json_t *run_template(const char *params, const char *seed, const char *work)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "aigtatt: 1\nname: p\nseed: %s\nnodes:\n  prompts:\n    use: prompt.template\n    params: %s\n", seed,
             params);
    char name[64];
    snprintf(name, sizeof name, "%s.yaml", work);
    free(ds_write(dir, name, yaml));
    char *out = NULL;
    int rc = ds_run(&out, dir, name, work, NULL);
    cr_assert_eq(rc, 0, "run failed (%d): %s", rc, out);
    free(out);
    char *port = ds_port_dir(dir, work, "prompts", "prompts");
    json_t *m = ds_manifest(port);
    free(port);
    return m;
}

Test(prompts, template_makes_unique_prompts_in_the_seed_shape)
{
    json_t *m = run_template("{count: 300}", "7", "w1");
    cr_assert_eq(json_array_size(m), 300);
    for (size_t i = 0; i < 300; i++) {
        json_t *r = json_array_get(m, i);
        char want[16];
        snprintf(want, sizeof want, "T%04zu", i + 1);
        cr_assert_str_eq(json_string_value(json_object_get(r, "id")), want);
        cr_assert_str_eq(json_string_value(json_object_get(r, "identity")), want);
        cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "prompt");
        const char *t = json_string_value(json_object_get(r, "text"));
        cr_assert_not_null(t);
        cr_assert(!strncmp(t, "In the style of TOK, a", 22), "prompt shape: %s", t);
        cr_assert_not_null(strstr(t, " tattoo of "), "%s", t);
        cr_assert_not_null(strstr(t, " on the "), "%s", t);
        cr_assert_not_null(strstr(t, " describing "), "%s", t);
        cr_assert_eq(t[strlen(t) - 1], '.', "%s", t);
        cr_assert_null(strstr(t, "  "), "double space in %s", t);
        cr_assert_null(strstr(t, " ,"), "space before comma in %s", t);
        cr_assert_null(strstr(t, " a a"), "article before a vowel in %s", t);
        cr_assert_null(strstr(t, " a e"), "article before a vowel in %s", t);
        cr_assert_null(strstr(t, " a i"), "article before a vowel in %s", t);
        cr_assert_null(strstr(t, " a o"), "article before a vowel in %s", t);
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(t, json_string_value(json_object_get(json_array_get(m, k), "text")),
                              "prompts %zu and %zu are equal", k + 1, i + 1);
    }
    json_decref(m);
}

Test(prompts, subjects_cover_the_grammar_before_repeating)
{
    json_t *m = run_template("{count: 40}", "3", "w1");
    /* 40 prompts draw 40 different subjects: the built-in list is longer. */
    for (size_t i = 0; i < 40; i++)
        for (size_t k = 0; k < i; k++) {
            json_t *a = json_object_get(json_object_get(json_array_get(m, i), "meta"), "subject");
            json_t *b = json_object_get(json_object_get(json_array_get(m, k), "meta"), "subject");
            cr_assert_str_neq(json_string_value(a), json_string_value(b), "subject repeats at %zu", i + 1);
        }
    json_decref(m);
}

static char *texts(json_t *m)
{
    size_t cap = 1 << 16, len = 0;
    char *s = calloc(cap, 1);
    for (size_t i = 0; i < json_array_size(m); i++) {
        const char *t = json_string_value(json_object_get(json_array_get(m, i), "text"));
        size_t n = strlen(t);
        if (len + n + 2 > cap)
            s = realloc(s, cap *= 2);
        memcpy(s + len, t, n);
        len += n;
        s[len++] = '\n';
        s[len] = '\0';
    }
    return s;
}

Test(prompts, same_seed_same_prompts_other_seed_others)
{
    json_t *a = run_template("{count: 25}", "11", "a"), *b = run_template("{count: 25}", "11", "b"),
           *c = run_template("{count: 25}", "12", "c");
    char *ta = texts(a), *tb = texts(b), *tc = texts(c);
    cr_assert_str_eq(ta, tb);
    cr_assert_str_neq(ta, tc);
    free(ta);
    free(tb);
    free(tc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

Test(prompts, empty_trigger_drops_the_phrase)
{
    json_t *m = run_template("{count: 30, trigger: ''}", "5", "w1");
    for (size_t i = 0; i < 30; i++) {
        const char *t = json_string_value(json_object_get(json_array_get(m, i), "text"));
        cr_assert_null(strstr(t, "TOK"), "%s", t);
        cr_assert_null(strstr(t, "style of"), "%s", t);
        cr_assert(t[0] == 'A', "starts with an article: %s", t);
    }
    json_decref(m);
}

Test(prompts, custom_trigger_and_template)
{
    json_t *m = run_template("{count: 5, trigger: sks, template: 'a {style} tattoo by {trigger} on the {body}'}",
                             "5", "w1");
    for (size_t i = 0; i < 5; i++) {
        const char *t = json_string_value(json_object_get(json_array_get(m, i), "text"));
        cr_assert(!strncmp(t, "A ", 2), "%s", t);
        cr_assert_not_null(strstr(t, " by sks on the "), "%s", t);
    }
    json_decref(m);
}

Test(prompts, too_few_combinations_is_an_error)
{
    free(ds_write(dir, "few.yaml", "aigtatt: 1\nname: p\nseed: 1\nnodes:\n  prompts:\n    use: prompt.template\n"
                                   "    params: {count: 30, template: 'on the {body}'}\n"));
    char *out = NULL;
    int rc = ds_run(&out, dir, "few.yaml", "w", NULL);
    cr_assert_neq(rc, 0);
    cr_assert_not_null(strstr(out, "unique prompts of the 30"), "%s", out);
    free(out);
}

Test(prompts, unknown_placeholder_is_refused_before_running)
{
    free(ds_write(dir, "bad.yaml", "aigtatt: 1\nname: p\nseed: 1\nnodes:\n  prompts:\n    use: prompt.template\n"
                                   "    params: {template: 'a {colour} tattoo'}\n"));
    char *out = NULL;
    int rc = ds_sh(&out, "cd '%s' && '%s' validate bad.yaml", dir, ds_cli());
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert_not_null(strstr(out, "{colour}"), "%s", out);
    cr_assert_not_null(strstr(out, "bad.yaml:7:"), "names the params line: %s", out);
    free(out);
}

static const char *file_yaml = "aigtatt: 1\nname: f\nseed: 1\nnodes:\n  prompts:\n    use: prompt.file\n"
                               "    params: {path: list.txt}\n";

Test(prompts, file_reads_one_prompt_a_line)
{
    free(ds_write(dir, "list.txt", "# my prompts\n\nA rose on the wrist.\n   \n  A wolf on the back.  \r\n"
                                   "# done\nAn owl.\n"));
    free(ds_write(dir, "f.yaml", file_yaml));
    char *out = NULL;
    int rc = ds_run(&out, dir, "f.yaml", "w", NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *port = ds_port_dir(dir, "w", "prompts", "prompts");
    json_t *m = ds_manifest(port);
    free(port);
    cr_assert_eq(json_array_size(m), 3);
    const char *want[] = {"A rose on the wrist.", "A wolf on the back.", "An owl."};
    const int lines[] = {3, 5, 7};
    for (size_t i = 0; i < 3; i++) {
        json_t *r = json_array_get(m, i);
        char id[16];
        snprintf(id, sizeof id, "T%04zu", i + 1);
        cr_assert_str_eq(json_string_value(json_object_get(r, "identity")), id);
        cr_assert_str_eq(json_string_value(json_object_get(r, "text")), want[i]);
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "meta"), "line")), lines[i]);
    }
    json_decref(m);
}

static void expect_file_error(const char *content, size_t n, const char *want)
{
    char *p = ds_write(dir, "list.txt", "");
    ds_write_bytes(p, content, n);
    free(p);
    free(ds_write(dir, "f.yaml", file_yaml));
    char *out = NULL;
    int rc = ds_run(&out, dir, "f.yaml", "w", NULL);
    cr_assert_neq(rc, 0, "should fail: %s", content);
    cr_assert_not_null(strstr(out, want), "want '%s' in: %s", want, out);
    free(out);
}

Test(prompts, file_errors_name_file_and_line)
{
    const char dup[] = "one\ntwo\n\none\n";
    expect_file_error(dup, sizeof dup - 1, "list.txt:4: duplicate of the prompt on line 1");
    const char utf[] = "fine\nbad \xff byte\n";
    expect_file_error(utf, sizeof utf - 1, "list.txt:2: the prompt is not valid UTF-8");
    const char ctl[] = "ok\n\nbell\x07\n";
    expect_file_error(ctl, sizeof ctl - 1, "list.txt:3: the prompt contains a control character");
    const char none[] = "# only comments\n\n";
    expect_file_error(none, sizeof none - 1, "list.txt: no prompts");
}
