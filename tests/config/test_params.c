/* Parameter validation against a component's declaration, the getters,
 * and the canonical JSON that stands for the parameters in cache keys. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/params.h"
#include "util/error.h"

#define P(...) {__VA_ARGS__, .doc = "test parameter"}

static const aigtatt_param_desc decls[] = {
    P(.name = "width", .type = AIGTATT_PARAM_INT, .default_value = "512", .has_min = 1, .min = 1,
      .has_max = 1, .max = 4096),
    P(.name = "seed", .type = AIGTATT_PARAM_INT, .default_value = "0"),
    P(.name = "scale", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.5", .has_min = 1,
      .min = 0, .has_max = 1, .max = 1),
    P(.name = "ratio", .type = AIGTATT_PARAM_FLOAT, .default_value = "2"),
    P(.name = "enabled", .type = AIGTATT_PARAM_BOOL, .default_value = "true"),
    P(.name = "label", .type = AIGTATT_PARAM_STRING, .default_value = "hello"),
    P(.name = "mode", .type = AIGTATT_PARAM_ENUM, .default_value = "fast",
      .choices = "fast|slow|exact"),
    P(.name = "out", .type = AIGTATT_PARAM_PATH, .default_value = "out/dir"),
    P(.name = "sizes", .type = AIGTATT_PARAM_LIST, .default_value = "[1, 2]",
      .item_type = AIGTATT_PARAM_INT, .has_min = 1, .min = 1),
    P(.name = "anything", .type = AIGTATT_PARAM_LIST, .default_value = "[]"),
    P(.name = "extra", .type = AIGTATT_PARAM_MAP, .default_value = "{}"),
    P(.name = "prompt", .type = AIGTATT_PARAM_STRING, .default_value = NULL),
    {0},
};

static const aigtatt_component_desc comp = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_STEP,
    .name = "test.comp",
    .version = "1",
    AIGTATT_PARAMS(decls),
};

static aigtatt_cfg *yaml(const char *text)
{
    aigtatt_cfg *c = NULL;
    cr_assert_eq(aigtatt_cfg_load_string(text, strlen(text), "exp.yaml", &c), AIGTATT_OK, "%s",
                 aigtatt_last_error());
    return c;
}

static aigtatt_params *parse_ok(const char *text)
{
    aigtatt_cfg *m = yaml(text);
    aigtatt_params *p = NULL;
    int rc = aigtatt_params_parse(m, &comp, "/base", &p);
    cr_assert_eq(rc, AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_cfg_free(m); /* the result must not point into it */
    return p;
}

static void expect_error(const char *text, const char *want)
{
    aigtatt_cfg *m = yaml(text);
    aigtatt_params *p = (aigtatt_params *)1;
    int rc = aigtatt_params_parse(m, &comp, "/base", &p);
    cr_assert_eq(rc, AIGTATT_ERR_INVALID, "accepted: %s", text);
    cr_assert_null(p);
    cr_assert_str_eq(aigtatt_last_error(), want);
    aigtatt_cfg_free(m);
}

Test(params, defaults)
{
    aigtatt_params *p = parse_ok("prompt: a tattoo\n");
    cr_assert_eq(aigtatt_params_int(p, "width"), 512);
    cr_assert_float_eq(aigtatt_params_float(p, "scale"), 0.5, 0);
    cr_assert_float_eq(aigtatt_params_float(p, "ratio"), 2.0, 0, "INT text for a FLOAT");
    cr_assert_float_eq(aigtatt_params_float(p, "width"), 512.0, 0, "float getter on an INT");
    cr_assert_eq(aigtatt_params_bool(p, "enabled"), 1);
    cr_assert_str_eq(aigtatt_params_string(p, "label"), "hello");
    cr_assert_str_eq(aigtatt_params_string(p, "mode"), "fast");
    cr_assert_str_eq(aigtatt_params_string(p, "out"), "/base/out/dir");
    cr_assert_str_eq(aigtatt_params_string(p, "prompt"), "a tattoo");
    cr_assert_not(aigtatt_params_is_set(p, "width"));
    cr_assert(aigtatt_params_is_set(p, "prompt"));
    const aigtatt_cfg *sizes = aigtatt_params_cfg(p, "sizes");
    cr_assert_eq(aigtatt_cfg_type_of(sizes), AIGTATT_CFG_SEQ);
    cr_assert_eq(aigtatt_cfg_len(sizes), 2);
    cr_assert_str_eq(aigtatt_cfg_scalar(aigtatt_cfg_at(sizes, 1)), "2");
    cr_assert_eq(aigtatt_cfg_type_of(aigtatt_params_cfg(p, "extra")), AIGTATT_CFG_MAP);
    cr_assert_str_eq(aigtatt_cfg_scalar(aigtatt_params_cfg(p, "width")), "512");
    aigtatt_params_free(p);
    aigtatt_params_free(NULL);
}

Test(params, values_of_each_type)
{
    aigtatt_params *p = parse_ok("width: 1024\n"
                                 "seed: -9223372036854775808\n"
                                 "scale: 2.5e-1\n"
                                 "ratio: -.5\n"
                                 "enabled: FALSE\n"
                                 "label: 123\n"
                                 "mode: \"exact\"\n"
                                 "out: /abs/../data/./x\n"
                                 "sizes: [3, +4, 5]\n"
                                 "anything: [a, [b], {c: d}]\n"
                                 "extra: {k: v}\n"
                                 "prompt: ''\n");
    cr_assert_eq(aigtatt_params_int(p, "width"), 1024);
    cr_assert_eq(aigtatt_params_int(p, "seed"), INT64_MIN);
    cr_assert_float_eq(aigtatt_params_float(p, "scale"), 0.25, 0);
    cr_assert_float_eq(aigtatt_params_float(p, "ratio"), -0.5, 0);
    cr_assert_eq(aigtatt_params_bool(p, "enabled"), 0);
    cr_assert_str_eq(aigtatt_params_string(p, "label"), "123", "a plain number is a fine string");
    cr_assert_str_eq(aigtatt_params_string(p, "mode"), "exact");
    cr_assert_str_eq(aigtatt_params_string(p, "out"), "/data/x");
    cr_assert_str_eq(aigtatt_params_string(p, "prompt"), "");
    cr_assert_eq(aigtatt_cfg_len(aigtatt_params_cfg(p, "sizes")), 3);
    cr_assert_str_eq(aigtatt_cfg_scalar(aigtatt_cfg_get(aigtatt_params_cfg(p, "extra"), "k")), "v");
    cr_assert(aigtatt_params_is_set(p, "width"));
    aigtatt_params_free(p);
}

Test(params, int_limits)
{
    aigtatt_params *p = parse_ok("prompt: x\nseed: 9223372036854775807\n");
    cr_assert_eq(aigtatt_params_int(p, "seed"), INT64_MAX);
    aigtatt_params_free(p);
    expect_error("prompt: x\nseed: 9223372036854775808\n",
                 "exp.yaml:2:7: parameter 'seed' of test.comp: integer out of the 64-bit range, "
                 "got '9223372036854775808'");
    expect_error("prompt: x\nseed: -9223372036854775809\n",
                 "exp.yaml:2:7: parameter 'seed' of test.comp: integer out of the 64-bit range, "
                 "got '-9223372036854775809'");
}

Test(params, path_relative_to_cwd_without_base)
{
    aigtatt_cfg *m = yaml("prompt: x\nout: a/b\n");
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(m, &comp, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    char cwd[4096], want[4200];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/a/b", strcmp(cwd, "/") ? cwd : "");
    cr_assert_str_eq(aigtatt_params_string(p, "out"), want);
    cr_assert_str_eq(aigtatt_cfg_scalar(aigtatt_params_cfg(p, "out")), want);
    aigtatt_params_free(p);
    aigtatt_cfg_free(m);
}

Test(params, unknown_parameter_with_suggestion)
{
    expect_error("prompt: x\nwidht: 5\n",
                 "exp.yaml:2:1: unknown parameter 'widht' for test.comp (did you mean 'width'?)");
}

Test(params, unknown_parameter_lists_known_ones)
{
    expect_error("prompt: x\n  \nzzzzzzzzzz: 1\n",
                 "exp.yaml:3:1: unknown parameter 'zzzzzzzzzz' for test.comp (known: width, seed, "
                 "scale, ratio, enabled, label, mode, out, sizes, anything, extra, prompt)");
}

Test(params, unknown_parameter_of_a_set_override)
{
    aigtatt_cfg *m = yaml("prompt: x\n");
    aigtatt_cfg *v = NULL;
    cr_assert_eq(aigtatt_cfg_load_string("5", 1, "--set node.heigth", &v), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_map_set(m, "heigth", v), AIGTATT_OK);
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(m, &comp, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert(strncmp(aigtatt_last_error(), "--set node.heigth:1:1: unknown parameter 'heigth'",
                      48) == 0, "%s", aigtatt_last_error());
    aigtatt_cfg_free(m);
}

Test(params, int_errors)
{
    expect_error("prompt: x\nwidth: abc\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: expected an integer, got 'abc'");
    expect_error("prompt: x\nwidth: 1.5\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: expected an integer, got '1.5'");
    expect_error("prompt: x\nwidth: 0x10\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: expected an integer, got '0x10'");
    expect_error("prompt: x\nwidth: \"5\"\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: expected an integer, got the "
                 "quoted string \"5\" (quoted values are strings; write it without quotes)");
    expect_error("prompt: x\nwidth: [5]\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: expected an integer, got a list");
    expect_error("prompt: x\nwidth:\n",
                 "exp.yaml:2:7: parameter 'width' of test.comp: expected an integer, got ''");
}

Test(params, int_range)
{
    expect_error("prompt: x\nwidth: 0\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: must be between 1 and 4096, "
                 "got 0");
    expect_error("prompt: x\nwidth: 4097\n",
                 "exp.yaml:2:8: parameter 'width' of test.comp: must be between 1 and 4096, "
                 "got 4097");
    aigtatt_params *p = parse_ok("prompt: x\nwidth: 4096\n");
    cr_assert_eq(aigtatt_params_int(p, "width"), 4096, "bounds are inclusive");
    aigtatt_params_free(p);
}

Test(params, float_errors)
{
    static const char *bad[] = {"inf", ".inf", "nan", "0x1p3", "1e", "1.2.3", "1,5", "e5", "+-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64], want[256];
        snprintf(text, sizeof text, "prompt: x\nratio: %s\n", bad[i]);
        snprintf(want, sizeof want,
                 "exp.yaml:2:8: parameter 'ratio' of test.comp: expected a number, got '%s'",
                 bad[i]);
        expect_error(text, want);
    }
    expect_error("prompt: x\nratio: 1e999\n",
                 "exp.yaml:2:8: parameter 'ratio' of test.comp: number out of range, got '1e999'");
    expect_error("prompt: x\nratio: '2'\n",
                 "exp.yaml:2:8: parameter 'ratio' of test.comp: expected a number, got the quoted "
                 "string \"2\" (quoted values are strings; write it without quotes)");
    expect_error("prompt: x\nscale: 1.0000001\n",
                 "exp.yaml:2:8: parameter 'scale' of test.comp: must be between 0 and 1, got "
                 "1.0000001");
    aigtatt_params *p = parse_ok("prompt: x\nratio: 5.\nscale: 1e-0\n");
    cr_assert_float_eq(aigtatt_params_float(p, "ratio"), 5.0, 0);
    cr_assert_float_eq(aigtatt_params_float(p, "scale"), 1.0, 0);
    aigtatt_params_free(p);
}

Test(params, bool_errors)
{
    expect_error("prompt: x\nenabled: yes\n",
                 "exp.yaml:2:10: parameter 'enabled' of test.comp: expected true or false, got "
                 "'yes'");
    expect_error("prompt: x\nenabled: 1\n",
                 "exp.yaml:2:10: parameter 'enabled' of test.comp: expected true or false, got "
                 "'1'");
    expect_error("prompt: x\nenabled: \"true\"\n",
                 "exp.yaml:2:10: parameter 'enabled' of test.comp: expected true or false, got "
                 "the quoted string \"true\" (quoted values are strings; write it without "
                 "quotes)");
    aigtatt_params *p = parse_ok("prompt: x\nenabled: tRuE\n");
    cr_assert_eq(aigtatt_params_bool(p, "enabled"), 1);
    aigtatt_params_free(p);
}

Test(params, enum_errors)
{
    expect_error("prompt: x\nmode: medium\n",
                 "exp.yaml:2:7: parameter 'mode' of test.comp: expected one of 'fast', 'slow', "
                 "'exact', got 'medium'");
    expect_error("prompt: x\nmode: fsat\n",
                 "exp.yaml:2:7: parameter 'mode' of test.comp: expected one of 'fast', 'slow', "
                 "'exact', got 'fsat' (did you mean 'fast'?)");
    expect_error("prompt: x\nmode: FAST\n",
                 "exp.yaml:2:7: parameter 'mode' of test.comp: expected one of 'fast', 'slow', "
                 "'exact', got 'FAST'");
}

Test(params, many_enum_choices)
{
    /* matching must not stop at the first 64 choices or 1 KiB of text */
    char choices[4096] = "", want[64];
    for (int i = 0; i < 300; i++)
        snprintf(choices + strlen(choices), sizeof choices - strlen(choices), "%schoice_%d",
                 i ? "|" : "", i);
    aigtatt_param_desc d[] = {
        P(.name = "e", .type = AIGTATT_PARAM_ENUM, .default_value = "choice_0", .choices = choices),
        {0}};
    aigtatt_component_desc c = {.struct_size = sizeof c, .name = "e.comp", AIGTATT_PARAMS(d)};
    aigtatt_cfg *m = yaml("e: choice_299\n");
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    snprintf(want, sizeof want, "choice_%d", 299);
    cr_assert_str_eq(aigtatt_params_string(p, "e"), want);
    aigtatt_params_free(p);
    aigtatt_cfg_free(m);
    m = yaml("e: choice_300\n");
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(),
                     "exp.yaml:1:4: parameter 'e' of e.comp: expected one of 'choice_0', "
                     "'choice_1', 'choice_2', 'choice_3', 'choice_4', 'choice_5', 'choice_6', "
                     "'choice_7', 'choice_8', 'choice_9', 'choice_10', 'choice_11', 'choice_12', "
                     "'choice_13', 'choice_14', 'choice_15', ... (300 choices), got 'choice_300' "
                     "(did you mean 'choice_30'?)");
    aigtatt_cfg_free(m);
}

Test(params, string_path_list_map_shape_errors)
{
    expect_error("prompt: {a: 1}\n",
                 "exp.yaml:1:9: parameter 'prompt' of test.comp: expected a string, got a "
                 "mapping");
    expect_error("prompt: x\nout: ''\n",
                 "exp.yaml:2:6: parameter 'out' of test.comp: expected a path, got an empty "
                 "string");
    expect_error("prompt: x\nout: [a]\n",
                 "exp.yaml:2:6: parameter 'out' of test.comp: expected a path, got a list");
    expect_error("prompt: x\nsizes: 5\n",
                 "exp.yaml:2:8: parameter 'sizes' of test.comp: expected a list, got '5'");
    expect_error("prompt: x\nextra: [1]\n",
                 "exp.yaml:2:8: parameter 'extra' of test.comp: expected a mapping, got a list");
}

Test(params, list_items_are_checked)
{
    expect_error("prompt: x\nsizes: [1, x, 3]\n",
                 "exp.yaml:2:12: item 2 of parameter 'sizes' of test.comp: expected an integer, "
                 "got 'x'");
    expect_error("prompt: x\nsizes:\n  - 1\n  - \"2\"\n",
                 "exp.yaml:4:5: item 2 of parameter 'sizes' of test.comp: expected an integer, "
                 "got the quoted string \"2\" (quoted values are strings; write it without "
                 "quotes)");
    expect_error("prompt: x\nsizes: [1, [2]]\n",
                 "exp.yaml:2:12: item 2 of parameter 'sizes' of test.comp: expected an integer, "
                 "got a list");
    expect_error("prompt: x\nsizes: [4, 0]\n",
                 "exp.yaml:2:12: item 2 of parameter 'sizes' of test.comp: must be at least 1, "
                 "got 0");
}

Test(params, missing_required)
{
    expect_error("width: 5\n", "exp.yaml:1:1: missing required parameter 'prompt' for test.comp");
    aigtatt_params *p = (aigtatt_params *)1;
    cr_assert_eq(aigtatt_params_parse(NULL, &comp, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert_null(p);
    cr_assert_str_eq(aigtatt_last_error(), "test.comp: missing required parameter 'prompt'");
}

Test(params, parameters_must_be_a_mapping)
{
    aigtatt_cfg *m = yaml("[1, 2]\n");
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(m, &comp, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(),
                     "exp.yaml:1:1: parameters of test.comp must be a mapping");
    aigtatt_cfg_free(m);
}

/* ---- descriptors of other sizes --------------------------------------- */

/* What an older plugin's aigtatt_param_desc might look like: the same
 * leading fields, nothing after `max`. */
struct old_param_desc {
    const char *name;
    aigtatt_param_type type;
    const char *default_value;
    int has_min;
    double min;
    int has_max;
    double max;
};

static const struct old_param_desc old_decls[] = {
    {"count", AIGTATT_PARAM_INT, "3", 0, 0, 1, 10},
    {"gain", AIGTATT_PARAM_FLOAT, "1.5", 0, 0, 0, 0},
    {"name", AIGTATT_PARAM_STRING, NULL, 0, 0, 0, 0},
    {NULL, 0, NULL, 0, 0, 0, 0},
};

/* A newer plugin: extra fields appended after today's struct. */
struct new_param_desc {
    aigtatt_param_desc d;
    const char *future;
    double more[3];
};

static const struct new_param_desc new_decls[] = {
    {{.name = "a", .type = AIGTATT_PARAM_INT, .default_value = "1", .doc = "x"}, "f", {1, 2, 3}},
    {{.name = "b", .type = AIGTATT_PARAM_ENUM, .default_value = "y", .choices = "x|y",
      .doc = "x"}, "f", {0}},
    {{0}, NULL, {0}},
};

Test(params, smaller_param_desc_stride)
{
    _Static_assert(sizeof(struct old_param_desc) < sizeof(aigtatt_param_desc),
                   "the old struct must be smaller for this test to mean anything");
    aigtatt_component_desc c = {
        .struct_size = sizeof c, .name = "old.comp",
        .params = (const aigtatt_param_desc *)(const void *)old_decls,
        .param_desc_size = sizeof(struct old_param_desc),
    };
    aigtatt_cfg *m = yaml("name: n\n");
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_params_int(p, "count"), 3);
    cr_assert_float_eq(aigtatt_params_float(p, "gain"), 1.5, 0);
    cr_assert_str_eq(aigtatt_params_string(p, "name"), "n");
    aigtatt_params_free(p);
    aigtatt_cfg_free(m);

    m = yaml("name: n\ncount: 11\n");
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(),
                     "exp.yaml:2:8: parameter 'count' of old.comp: must be at most 10, got 11");
    aigtatt_cfg_free(m);
}

Test(params, larger_param_desc_stride)
{
    aigtatt_component_desc c = {
        .struct_size = sizeof c, .name = "new.comp",
        .params = (const aigtatt_param_desc *)(const void *)new_decls,
        .param_desc_size = sizeof(struct new_param_desc),
    };
    aigtatt_cfg *m = yaml("a: 7\n");
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_params_int(p, "a"), 7);
    cr_assert_str_eq(aigtatt_params_string(p, "b"), "y");
    aigtatt_params_free(p);
    aigtatt_cfg_free(m);
}

Test(params, older_component_desc)
{
    /* a component struct that ends right after param_desc_size */
    aigtatt_component_desc c = {
        .struct_size = offsetof(aigtatt_component_desc, inputs), .name = "short.comp",
        AIGTATT_PARAMS(decls),
    };
    aigtatt_params *p = NULL;
    aigtatt_cfg *m = yaml("prompt: x\n");
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_params_int(p, "width"), 512);
    aigtatt_params_free(p);
    /* one that ends before `params`: no parameters at all */
    c.struct_size = offsetof(aigtatt_component_desc, params);
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(),
                     "exp.yaml:1:1: unknown parameter 'prompt' for short.comp (it takes no "
                     "parameters)");
    aigtatt_cfg_free(m);
}

/* ---- plugin bugs -------------------------------------------------------- */

static void expect_decl_error(const aigtatt_param_desc *d, const char *want)
{
    aigtatt_component_desc c = {.struct_size = sizeof c, .name = "bug.comp", .params = d,
                                .param_desc_size = sizeof *d};
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(NULL, &c, NULL, &p), AIGTATT_ERR_INVALID, "%s",
                 aigtatt_last_error());
    cr_assert_null(p);
    cr_assert_str_eq(aigtatt_last_error(), want);
}

Test(params, plugin_bugs_are_named)
{
    aigtatt_param_desc bad_default[] = {
        P(.name = "n", .type = AIGTATT_PARAM_INT, .default_value = "many"), {0}};
    expect_decl_error(bad_default, "bug.comp: plugin bug: the default of parameter 'n' is "
                                   "invalid: expected an integer, got 'many'");
    aigtatt_param_desc bad_yaml[] = {
        P(.name = "n", .type = AIGTATT_PARAM_LIST, .default_value = "[1, "), {0}};
    expect_decl_error(bad_yaml, "bug.comp: plugin bug: the default of parameter 'n' is not valid "
                                "YAML: bug.comp (default of 'n'):2:1: did not find expected node "
                                "content (while parsing a flow node started at 2:1)");
    aigtatt_param_desc twice[] = {P(.name = "n", .type = AIGTATT_PARAM_INT, .default_value = "1"),
                                  P(.name = "n", .type = AIGTATT_PARAM_INT, .default_value = "2"),
                                  {0}};
    expect_decl_error(twice, "bug.comp: plugin bug: parameter 'n' is declared twice");
    aigtatt_param_desc no_choices[] = {
        P(.name = "e", .type = AIGTATT_PARAM_ENUM, .default_value = "a"), {0}};
    expect_decl_error(no_choices, "bug.comp: plugin bug: enum parameter 'e' declares no choices");
    aigtatt_param_desc bad_type[] = {P(.name = "t", .type = 99, .default_value = "a"), {0}};
    expect_decl_error(bad_type,
                      "bug.comp: plugin bug: parameter 1 ('t') has no name or an unknown type");
    aigtatt_param_desc bad_range[] = {
        P(.name = "r", .type = AIGTATT_PARAM_FLOAT, .default_value = "-1", .has_min = 1,
          .min = 0), {0}};
    expect_decl_error(bad_range, "bug.comp: plugin bug: the default of parameter 'r' is invalid: "
                                 "must be at least 0, got -1");

    aigtatt_component_desc c = {.struct_size = sizeof c, .name = "bug.comp", .params = bad_type,
                                .param_desc_size = 4};
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(NULL, &c, NULL, &p), AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(),
                     "bug.comp: plugin bug: param_desc_size is 4 (use AIGTATT_PARAMS())");
}

Test(params, null_and_empty_defaults)
{
    aigtatt_param_desc d[] = {
        P(.name = "opt", .type = AIGTATT_PARAM_STRING, .default_value = "~"),
        P(.name = "optn", .type = AIGTATT_PARAM_INT, .default_value = "null"),
        P(.name = "empty", .type = AIGTATT_PARAM_STRING, .default_value = ""),
        P(.name = "qtilde", .type = AIGTATT_PARAM_STRING, .default_value = "'~'"),
        {0}};
    aigtatt_component_desc c = {.struct_size = sizeof c, .name = "n.comp", AIGTATT_PARAMS(d)};
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(NULL, &c, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_null(aigtatt_params_string(p, "opt"));
    cr_assert_null(aigtatt_params_cfg(p, "opt"));
    cr_assert_eq(aigtatt_params_int(p, "optn"), 0);
    cr_assert_str_eq(aigtatt_params_string(p, "empty"), "");
    cr_assert_str_eq(aigtatt_params_string(p, "qtilde"), "~");
    char *json = aigtatt_params_canonical_json(p);
    cr_assert_str_eq(json, "{\"empty\":\"\",\"opt\":null,\"optn\":null,\"qtilde\":\"~\"}");
    free(json);
    aigtatt_params_free(p);

    aigtatt_cfg *m = yaml("opt: given\n");
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_OK);
    cr_assert_str_eq(aigtatt_params_string(p, "opt"), "given");
    aigtatt_params_free(p);
    aigtatt_cfg_free(m);

    /* the user's own ~ or null for an optional one is no value, not the
     * text "~" (a path would become <dir>/~); a quoted '~' stays text */
    m = yaml("opt: ~\noptn: null\nqtilde: '~'\n");
    cr_assert_eq(aigtatt_params_parse(m, &c, NULL, &p), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_expect_null(aigtatt_params_string(p, "opt"));
    cr_expect_eq(aigtatt_params_int(p, "optn"), 0);
    cr_expect_str_eq(aigtatt_params_string(p, "qtilde"), "~");
    aigtatt_params_free(p);
    aigtatt_cfg_free(m);
}

/* ---- getter misuse ------------------------------------------------------ */

/* Runs the getters with stderr sent to a file and returns what was logged. */
static char *capture_log(void (*fn)(const aigtatt_params *), const aigtatt_params *p)
{
    char path[] = "/tmp/aigtatt-params-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(p);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char text[8192];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return text;
}

static void misuse(const aigtatt_params *p)
{
    cr_assert_eq(aigtatt_params_int(p, "nope"), 0);
    cr_assert_eq(aigtatt_params_int(p, "label"), 0);
    cr_assert_eq(aigtatt_params_bool(p, "width"), 0);
    cr_assert_float_eq(aigtatt_params_float(p, "label"), 0.0, 0);
    cr_assert_null(aigtatt_params_string(p, "width"));
    cr_assert_null(aigtatt_params_string(p, "sizes"));
    cr_assert_null(aigtatt_params_cfg(p, "nope"));
    cr_assert_eq(aigtatt_params_is_set(p, "nope"), 0);
    cr_assert_eq(aigtatt_params_int(NULL, "width"), 0);
    cr_assert_null(aigtatt_params_string(p, NULL));
}

Test(params, getter_misuse_logs_and_returns_zero)
{
    aigtatt_params *p = parse_ok("prompt: x\n");
    const char *log = capture_log(misuse, p);
    cr_assert(strstr(log, "param_int(): test.comp declares no parameter 'nope'"), "%s", log);
    cr_assert(strstr(log, "param_int(): parameter 'label' of test.comp is of type string"), "%s",
              log);
    cr_assert(strstr(log, "param_bool(): parameter 'width' of test.comp is of type int"), "%s",
              log);
    cr_assert(strstr(log, "param_string(): parameter 'sizes' of test.comp is of type list"), "%s",
              log);
    cr_assert(strstr(log, "param_int(): NULL params"), "%s", log);
    cr_assert(strstr(log, "param_string(): NULL name"), "%s", log);
    aigtatt_params_free(p);
}

/* ---- canonical JSON ----------------------------------------------------- */

static char *json_of(const char *text)
{
    aigtatt_params *p = parse_ok(text);
    char *j = aigtatt_params_canonical_json(p);
    cr_assert_not_null(j, "%s", aigtatt_last_error());
    aigtatt_params_free(p);
    return j;
}

Test(params, canonical_json_of_defaults)
{
    char *j = json_of("prompt: a tattoo\n");
    cr_assert_str_eq(j, "{\"anything\":[],\"enabled\":true,\"extra\":{},\"label\":\"hello\","
                        "\"mode\":\"fast\",\"out\":\"/base/out/dir\",\"prompt\":\"a tattoo\","
                        "\"ratio\":2.0,\"scale\":0.5,\"seed\":0,\"sizes\":[1,2],\"width\":512}");
    free(j);
}

Test(params, canonical_json_types_and_sorting)
{
    char *j = json_of("prompt: p\n"
                      "scale: 0.1\n"
                      "seed: -7\n"
                      "sizes: [10]\n"
                      "anything: [1, true, [x], {z: 1, a: \"2\"}]\n"
                      "extra: {zeta: 1, alpha: [b, a], mid: {y: 2, x: 1}}\n"
                      "enabled: false\n");
    cr_assert_str_eq(j, "{\"anything\":[\"1\",\"true\",[\"x\"],{\"a\":\"2\",\"z\":\"1\"}],"
                        "\"enabled\":false,"
                        "\"extra\":{\"alpha\":[\"b\",\"a\"],\"mid\":{\"x\":\"1\",\"y\":\"2\"},"
                        "\"zeta\":\"1\"},"
                        "\"label\":\"hello\",\"mode\":\"fast\",\"out\":\"/base/out/dir\","
                        "\"prompt\":\"p\",\"ratio\":2.0,\"scale\":0.10000000000000001,\"seed\":-7,"
                        "\"sizes\":[10],\"width\":512}");
    free(j);
}

Test(params, canonical_json_is_stable_across_spellings)
{
    char *a = json_of("prompt: p\nwidth: 640\nscale: 0.25\nratio: 3\nenabled: TRUE\n"
                      "sizes: [1, 2]\nextra: {b: 1, a: 2}\nout: sub/../x\n");
    char *b = json_of("out: x\nextra:\n  a: 2\n  b: 1\nsizes:\n  - +1\n  - 2\nenabled: true\n"
                      "ratio: 3.0\nscale: 2.5e-1\nwidth: +640\nprompt: \"p\"\n");
    cr_assert_str_eq(a, b);
    /* -0 is 0 */
    char *c = json_of("prompt: p\nratio: -0.0\n");
    char *d = json_of("prompt: p\nratio: 0\n");
    cr_assert_str_eq(c, d);
    cr_assert(strstr(c, "\"ratio\":0.0"), "%s", c);
    /* and a different value is a different key */
    char *e = json_of("prompt: p\nwidth: 641\nscale: 0.25\nratio: 3\nenabled: TRUE\n"
                      "sizes: [1, 2]\nextra: {b: 1, a: 2}\nout: sub/../x\n");
    cr_assert_str_neq(a, e);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

Test(params, canonical_json_float_precision)
{
    char *j = json_of("prompt: p\nratio: 0.30000000000000004\n");
    cr_assert(strstr(j, "\"ratio\":0.30000000000000004"), "%s", j);
    free(j);
    j = json_of("prompt: p\nratio: 1e300\n");
    cr_assert(strstr(j, "\"ratio\":1.0000000000000001e300"), "%s", j);
    free(j);
}

Test(params, canonical_json_typed_list_items)
{
    aigtatt_param_desc d[] = {
        P(.name = "f", .type = AIGTATT_PARAM_LIST, .default_value = "[1, 2.5, -0]",
          .item_type = AIGTATT_PARAM_FLOAT),
        P(.name = "b", .type = AIGTATT_PARAM_LIST, .default_value = "[TRUE, false]",
          .item_type = AIGTATT_PARAM_BOOL),
        P(.name = "p", .type = AIGTATT_PARAM_LIST, .default_value = "[a, /b]",
          .item_type = AIGTATT_PARAM_PATH),
        P(.name = "e", .type = AIGTATT_PARAM_LIST, .default_value = "[x, y]",
          .item_type = AIGTATT_PARAM_ENUM, .choices = "x|y"),
        {0}};
    aigtatt_component_desc c = {.struct_size = sizeof c, .name = "l.comp", AIGTATT_PARAMS(d)};
    aigtatt_params *p = NULL;
    cr_assert_eq(aigtatt_params_parse(NULL, &c, "/root", &p), AIGTATT_OK, "%s",
                 aigtatt_last_error());
    char *j = aigtatt_params_canonical_json(p);
    cr_assert_str_eq(j, "{\"b\":[true,false],\"e\":[\"x\",\"y\"],\"f\":[1.0,2.5,0.0],"
                        "\"p\":[\"/root/a\",\"/b\"]}");
    free(j);
    aigtatt_params_free(p);

    aigtatt_cfg *m = yaml("e: [x, z]\n");
    cr_assert_eq(aigtatt_params_parse(m, &c, "/root", &p), AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(), "exp.yaml:1:8: item 2 of parameter 'e' of l.comp: "
                                           "expected one of 'x', 'y', got 'z'");
    aigtatt_cfg_free(m);
}
