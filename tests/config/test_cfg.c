/* The config tree: what it accepts, where it says things went wrong, and
 * that what it writes reads back the same. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "util/error.h"
#include "util/fs.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aigtatt-cfg-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void) { aigtatt_rmtree(tmpdir); }

TestSuite(cfg, .init = setup, .fini = teardown);

/* Writes `size` bytes into tmpdir/name; returns the path (static buffer). */
static const char *write_tmp(const char *name, const char *text, size_t size)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, size, f), size);
    fclose(f);
    return path;
}

static aigtatt_cfg *load_ok(const char *text)
{
    aigtatt_cfg *c = NULL;
    int rc = aigtatt_cfg_load_string(text, strlen(text), "t.yaml", &c);
    cr_assert_eq(rc, AIGTATT_OK, "load failed: %s", aigtatt_last_error());
    cr_assert_not_null(c);
    return c;
}

/* Loads `text` from a real file and expects the error "<path>:<rest>". */
static void expect_file_error(const char *text, int status, const char *rest)
{
    const char *path = write_tmp("bad.yaml", text, strlen(text));
    aigtatt_cfg *c = (aigtatt_cfg *)1;
    int rc = aigtatt_cfg_load_file(path, &c);
    cr_assert_eq(rc, status, "status %d for %s (%s)", rc, text, aigtatt_last_error());
    cr_assert_null(c, "*out must be NULL on failure");
    char want[1024];
    snprintf(want, sizeof want, "%s:%s", path, rest);
    cr_assert_str_eq(aigtatt_last_error(), want);
}

Test(cfg, mapping_with_positions)
{
    aigtatt_cfg *c = load_ok("# comment\n"
                             "name: demo\n"
                             "size: 512\n"
                             "tags:\n"
                             "  - a\n"
                             "  - \"b\"\n"
                             "nested: {x: 1, 'y': [2, 3]}\n");
    cr_assert_eq(aigtatt_cfg_type_of(c), AIGTATT_CFG_MAP);
    cr_assert_eq(aigtatt_cfg_len(c), 4);
    cr_assert_str_eq(aigtatt_cfg_key_at(c, 1), "size");
    const aigtatt_cfg *size = aigtatt_cfg_get(c, "size");
    cr_assert_str_eq(aigtatt_cfg_scalar(size), "512");
    cr_assert_eq(size->quoted, 0);
    cr_assert_eq(size->line, 3);
    cr_assert_eq(size->col, 7);
    cr_assert_eq(size->key_line, 3);
    cr_assert_eq(size->key_col, 1);
    const aigtatt_cfg *tags = aigtatt_cfg_get(c, "tags");
    cr_assert_eq(aigtatt_cfg_type_of(tags), AIGTATT_CFG_SEQ);
    cr_assert_eq(tags->line, 5);
    cr_assert_eq(tags->col, 3);
    cr_assert_eq(aigtatt_cfg_at(tags, 1)->quoted, 1);
    cr_assert_eq(aigtatt_cfg_at(tags, 1)->col, 5);
    const aigtatt_cfg *y = aigtatt_cfg_get(aigtatt_cfg_get(c, "nested"), "y");
    cr_assert_eq(aigtatt_cfg_len(y), 2);
    cr_assert_eq(y->col, 21);
    cr_assert_eq(y->key_col, 16);
    char buf[64];
    cr_assert_str_eq(aigtatt_cfg_where(aigtatt_cfg_at(y, 1), buf, sizeof buf), "t.yaml:7:25");
    cr_assert_str_eq(aigtatt_cfg_key_where(c, 3, buf, sizeof buf), "t.yaml:7:1");
    aigtatt_cfg_free(c);
}

Test(cfg, columns_count_characters)
{
    /* editors count characters, not UTF-8 bytes */
    aigtatt_cfg *c = load_ok("\xc3\xa9t\xc3\xa9: x\n");
    cr_assert_eq(aigtatt_cfg_get(c, "\xc3\xa9t\xc3\xa9")->col, 6);
    aigtatt_cfg_free(c);
}

Test(cfg, accessors_tolerate_null_and_range)
{
    aigtatt_cfg *c = load_ok("a: [1]\n");
    cr_assert_eq(aigtatt_cfg_type_of(NULL), 0);
    cr_assert_eq(aigtatt_cfg_len(NULL), 0);
    cr_assert_null(aigtatt_cfg_at(c, 1));
    cr_assert_null(aigtatt_cfg_key_at(c, 1));
    cr_assert_null(aigtatt_cfg_key_at(aigtatt_cfg_get(c, "a"), 0));
    cr_assert_null(aigtatt_cfg_get(c, "b"));
    cr_assert_null(aigtatt_cfg_get(aigtatt_cfg_get(c, "a"), "a"));
    cr_assert_null(aigtatt_cfg_scalar(c));
    cr_assert_eq(aigtatt_cfg_len(aigtatt_cfg_at(aigtatt_cfg_get(c, "a"), 0)), 0);
    aigtatt_cfg_free(NULL);
    aigtatt_cfg_free(c);
}

Test(cfg, empty_inputs_are_empty_mappings)
{
    static const char *texts[] = {"", "# just a comment\n\n# another\n", "---\n", "\n\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *path = write_tmp("empty.yaml", texts[i], strlen(texts[i]));
        aigtatt_cfg *c = NULL;
        cr_assert_eq(aigtatt_cfg_load_file(path, &c), AIGTATT_OK, "%s", aigtatt_last_error());
        cr_assert_eq(aigtatt_cfg_type_of(c), AIGTATT_CFG_MAP, "text %zu", i);
        cr_assert_eq(aigtatt_cfg_len(c), 0);
        cr_assert_str_eq(c->file, path);
        aigtatt_cfg_free(c);
    }
}

Test(cfg, refuses_anchor)
{
    expect_file_error("a: 1\nb: &x 2\n", AIGTATT_ERR_FORMAT,
                      "2:4: anchors and aliases are not supported (found anchor '&x')");
}

Test(cfg, refuses_alias)
{
    expect_file_error("a: 1\nb:\n  - *x\n", AIGTATT_ERR_FORMAT,
                      "3:5: anchors and aliases are not supported (found alias '*x')");
}

Test(cfg, refuses_anchor_on_mapping)
{
    expect_file_error("base: &b\n  x: 1\n", AIGTATT_ERR_FORMAT,
                      "1:7: anchors and aliases are not supported (found anchor '&b')");
}

Test(cfg, refuses_tags)
{
    expect_file_error("a: !!str 5\n", AIGTATT_ERR_FORMAT,
                      "1:4: tags are not supported (found '!!str'); write the plain value, "
                      "quoted if it must stay a string");
    expect_file_error("a: 1\nb: !foo x\n", AIGTATT_ERR_FORMAT,
                      "2:4: tags are not supported (found '!foo'); write the plain value, "
                      "quoted if it must stay a string");
    expect_file_error("m: !!map {a: 1}\n", AIGTATT_ERR_FORMAT,
                      "1:4: tags are not supported (found '!!map'); write the plain value, "
                      "quoted if it must stay a string");
}

Test(cfg, refuses_tagged_key)
{
    expect_file_error("!!str a: 1\n", AIGTATT_ERR_FORMAT,
                      "1:1: tags are not supported (found '!!str'); write the plain value, "
                      "quoted if it must stay a string");
}

Test(cfg, refuses_duplicate_keys)
{
    expect_file_error("a: 1\nb: 2\na: 3\n", AIGTATT_ERR_FORMAT,
                      "3:1: duplicate key 'a' (first defined at line 1, column 1)");
    expect_file_error("n:\n  x: 1\n  y: 2\n  x: 3\n", AIGTATT_ERR_FORMAT,
                      "4:3: duplicate key 'x' (first defined at line 2, column 3)");
    /* quoting does not make a different key */
    expect_file_error("{k: 1, \"k\": 2}\n", AIGTATT_ERR_FORMAT,
                      "1:8: duplicate key 'k' (first defined at line 1, column 2)");
}

Test(cfg, duplicate_detection_in_large_map)
{
    /* past the first rehash of the key index */
    char *text = malloc(200000);
    size_t n = 0;
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(text + n, "k%d: %d\n", i, i);
    n += (size_t)sprintf(text + n, "k4321: dup\n");
    const char *path = write_tmp("big.yaml", text, n);
    aigtatt_cfg *c = NULL;
    cr_assert_eq(aigtatt_cfg_load_file(path, &c), AIGTATT_ERR_FORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s:5001:1: duplicate key 'k4321' (first defined at line 4322, "
             "column 1)", path);
    cr_assert_str_eq(aigtatt_last_error(), want);
    /* the same map without the duplicate loads, all keys present */
    cr_assert_eq(aigtatt_cfg_load_string(text, n - strlen("k4321: dup\n"), "big", &c), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_len(c), 5000);
    cr_assert_str_eq(aigtatt_cfg_scalar(aigtatt_cfg_get(c, "k4999")), "4999");
    aigtatt_cfg_free(c);
    free(text);
}

Test(cfg, refuses_non_scalar_keys)
{
    expect_file_error("? [a, b]\n: 1\n", AIGTATT_ERR_FORMAT,
                      "1:3: mapping keys must be scalars (this key is a sequence)");
    expect_file_error("x: 1\n{a: 1}: 2\n", AIGTATT_ERR_FORMAT,
                      "2:1: mapping keys must be scalars (this key is a mapping)");
}

Test(cfg, refuses_multiple_documents)
{
    expect_file_error("a: 1\n---\nb: 2\n", AIGTATT_ERR_FORMAT,
                      "2:1: more than one document; a config file holds exactly one");
    expect_file_error("a: 1\n...\n---\nb: 2\n", AIGTATT_ERR_FORMAT,
                      "3:1: more than one document; a config file holds exactly one");
}

Test(cfg, syntax_errors_name_the_place)
{
    expect_file_error("a: b: c\n", AIGTATT_ERR_FORMAT,
                      "1:5: mapping values are not allowed in this context");
    expect_file_error("a:\n  - 1\n  b: 2\n", AIGTATT_ERR_FORMAT,
                      "3:3: did not find expected '-' indicator (while parsing a block "
                      "collection started at 2:3)");
    expect_file_error("a: [1, 2\nb: 3\n", AIGTATT_ERR_FORMAT,
                      "2:2: did not find expected ',' or ']' (while parsing a flow sequence "
                      "started at 1:4)");
}

Test(cfg, reader_errors_name_the_place)
{
    expect_file_error("a: 1\nb: x\xff\n", AIGTATT_ERR_FORMAT,
                      "2:5: invalid leading UTF-8 octet (byte 0xFF)");
    expect_file_error("a: 1\nb: \x01\n", AIGTATT_ERR_FORMAT,
                      "2:4: control characters are not allowed (byte 0x01)");
}

Test(cfg, refuses_nul_escape)
{
    expect_file_error("a: \"x\\0y\"\n", AIGTATT_ERR_FORMAT,
                      "1:4: NUL characters are not supported");
}

static char *nested_flow(int depth)
{
    char *s = malloc((size_t)depth * 2 + 2);
    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth + i] = ']';
    }
    s[2 * depth] = '\n';
    s[2 * depth + 1] = '\0';
    return s;
}

/* "a:\n  a:\n    a: ...": `depth` mappings, the innermost holding a 1 */
static char *nested_block(int depth)
{
    size_t cap = (size_t)depth * ((size_t)depth * 2 + 8) + 16, n = 0;
    char *s = malloc(cap);
    for (int i = 0; i < depth; i++)
        n += (size_t)sprintf(s + n, "%*sa:%s", 2 * i, "", i == depth - 1 ? " 1\n" : "\n");
    return s;
}

Test(cfg, nesting_64_is_accepted)
{
    char *t = nested_flow(AIGTATT_CFG_MAX_DEPTH);
    aigtatt_cfg *c = load_ok(t);
    int depth = 0;
    for (const aigtatt_cfg *x = c; x && x->type == AIGTATT_CFG_SEQ; x = aigtatt_cfg_at(x, 0))
        depth++;
    cr_assert_eq(depth, 64);
    aigtatt_cfg_free(c);
    free(t);
    t = nested_block(AIGTATT_CFG_MAX_DEPTH);
    c = load_ok(t);
    aigtatt_cfg_free(c);
    free(t);
}

Test(cfg, nesting_65_is_refused)
{
    char *t = nested_flow(AIGTATT_CFG_MAX_DEPTH + 1);
    expect_file_error(t, AIGTATT_ERR_FORMAT,
                      "1:65: nesting deeper than 64 levels is not supported");
    free(t);
    t = nested_block(AIGTATT_CFG_MAX_DEPTH + 1);
    expect_file_error(t, AIGTATT_ERR_FORMAT,
                      "65:129: nesting deeper than 64 levels is not supported");
    free(t);
}

/* A valid YAML text of exactly `size` bytes: one comment line. */
static char *comment_of_size(size_t size)
{
    char *s = malloc(size + 1);
    memset(s, 'x', size);
    s[0] = '#';
    s[size - 1] = '\n';
    s[size] = '\0';
    return s;
}

Test(cfg, one_mebibyte_is_accepted)
{
    char *t = comment_of_size(AIGTATT_CFG_MAX_BYTES);
    const char *path = write_tmp("max.yaml", t, AIGTATT_CFG_MAX_BYTES);
    aigtatt_cfg *c = NULL;
    cr_assert_eq(aigtatt_cfg_load_file(path, &c), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_cfg_type_of(c), AIGTATT_CFG_MAP);
    aigtatt_cfg_free(c);
    free(t);
}

Test(cfg, over_one_mebibyte_is_refused)
{
    char *t = comment_of_size(AIGTATT_CFG_MAX_BYTES + 1);
    const char *path = write_tmp("huge.yaml", t, AIGTATT_CFG_MAX_BYTES + 1);
    aigtatt_cfg *c = (aigtatt_cfg *)1;
    cr_assert_eq(aigtatt_cfg_load_file(path, &c), AIGTATT_ERR_LIMIT);
    cr_assert_null(c);
    char want[600];
    snprintf(want, sizeof want,
             "%s: file is over the limit of 1048576 bytes (1 MiB) for a config file", path);
    cr_assert_str_eq(aigtatt_last_error(), want);
    cr_assert_eq(aigtatt_cfg_load_string(t, AIGTATT_CFG_MAX_BYTES + 1, "--set x", &c),
                 AIGTATT_ERR_LIMIT);
    cr_assert_str_eq(aigtatt_last_error(),
                     "--set x: 1048577 bytes is over the limit of 1048576 bytes (1 MiB) for a "
                     "config");
    free(t);
}

Test(cfg, missing_file_and_folder)
{
    char path[600];
    snprintf(path, sizeof path, "%s/nope.yaml", tmpdir);
    aigtatt_cfg *c = NULL;
    cr_assert_eq(aigtatt_cfg_load_file(path, &c), AIGTATT_ERR_IO);
    cr_assert(strstr(aigtatt_last_error(), path) != NULL);
    cr_assert(strstr(aigtatt_last_error(), "No such file") != NULL, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_cfg_load_file(tmpdir, &c), AIGTATT_ERR_IO);
    cr_assert(strstr(aigtatt_last_error(), "is a folder") != NULL, "%s", aigtatt_last_error());
}

Test(cfg, clone_is_independent)
{
    aigtatt_cfg *c = load_ok("a: [1, {b: \"2\"}]\nc: x\n");
    aigtatt_cfg *k = aigtatt_cfg_clone(aigtatt_cfg_get(c, "a"));
    cr_assert_not_null(k);
    cr_assert(aigtatt_cfg_equal(k, aigtatt_cfg_get(c, "a")));
    cr_assert_neq(k->file, c->file, "the clone has its own file name");
    aigtatt_cfg_free(c);
    /* still readable, file name included, after the original is gone */
    char buf[64];
    cr_assert_str_eq(aigtatt_cfg_where(aigtatt_cfg_at(k, 1), buf, sizeof buf), "t.yaml:1:8");
    cr_assert_eq(aigtatt_cfg_get(aigtatt_cfg_at(k, 1), "b")->quoted, 1);
    aigtatt_cfg_free(k);
    cr_assert_null(aigtatt_cfg_clone(NULL));
}

Test(cfg, equal_sees_differences)
{
    aigtatt_cfg *a = load_ok("x: [1, 2]\ny: '3'\n");
    aigtatt_cfg *b = load_ok("x: [1, 2]\ny: 3\n");
    aigtatt_cfg *c = load_ok("x: [1, 2]\nz: '3'\n");
    aigtatt_cfg *d = load_ok("{x: [1, 2], y: \"3\"}");
    cr_assert_not(aigtatt_cfg_equal(a, b), "quoted vs plain");
    cr_assert_not(aigtatt_cfg_equal(a, c), "key differs");
    cr_assert(aigtatt_cfg_equal(a, d), "style and position do not matter");
    aigtatt_cfg_free(a);
    aigtatt_cfg_free(b);
    aigtatt_cfg_free(c);
    aigtatt_cfg_free(d);
}

Test(cfg, map_set_grafts_overrides)
{
    aigtatt_cfg *root = load_ok("designs:\n  width: 512\n  use: image.procedural\n");
    aigtatt_cfg *designs = (aigtatt_cfg *)aigtatt_cfg_get(root, "designs");
    aigtatt_cfg *v = NULL;
    cr_assert_eq(aigtatt_cfg_load_string("1024", 4, "--set designs.width", &v), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_map_set(designs, "width", v), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_len(designs), 2, "replaced, not added");
    cr_assert_str_eq(aigtatt_cfg_key_at(designs, 0), "width", "order kept");
    cr_assert_str_eq(aigtatt_cfg_scalar(aigtatt_cfg_get(designs, "width")), "1024");

    cr_assert_eq(aigtatt_cfg_load_string("[a, b]", 6, "--set designs.extra", &v), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_map_set(designs, "extra", v), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_len(designs), 3);
    char buf[128];
    cr_assert_str_eq(aigtatt_cfg_key_where(designs, 2, buf, sizeof buf), "--set designs.extra:1:1");
    cr_assert_str_eq(aigtatt_cfg_where(aigtatt_cfg_at(aigtatt_cfg_get(designs, "extra"), 1), buf,
                                       sizeof buf),
                     "--set designs.extra:1:5");

    /* refused on a scalar; the value is freed all the same (ASan checks) */
    cr_assert_eq(aigtatt_cfg_load_string("x", 1, "--set y", &v), AIGTATT_OK);
    cr_assert_eq(aigtatt_cfg_map_set((aigtatt_cfg *)aigtatt_cfg_get(designs, "use"), "k", v),
                 AIGTATT_ERR_INVALID);
    cr_assert_str_eq(aigtatt_last_error(), "t.yaml:3:8: cannot set 'k': not a mapping");

    /* the grafted names outlive their source texts and survive a clone */
    aigtatt_cfg *copy = aigtatt_cfg_clone(root);
    aigtatt_cfg_free(root);
    cr_assert_str_eq(aigtatt_cfg_key_where(aigtatt_cfg_get(copy, "designs"), 2, buf, sizeof buf),
                     "--set designs.extra:1:1");
    aigtatt_cfg_free(copy);
}

/* load -> emit -> load must give the same tree */
static void round_trip(const char *text)
{
    aigtatt_cfg *a = load_ok(text);
    char *yaml = aigtatt_cfg_to_yaml(a);
    cr_assert_not_null(yaml, "%s", aigtatt_last_error());
    aigtatt_cfg *b = NULL;
    cr_assert_eq(aigtatt_cfg_load_string(yaml, strlen(yaml), "emitted", &b), AIGTATT_OK,
                 "reload of:\n%s\nfailed: %s", yaml, aigtatt_last_error());
    cr_assert(aigtatt_cfg_equal(a, b), "round trip changed the tree:\n--- in\n%s\n--- out\n%s",
              text, yaml);
    char *again = aigtatt_cfg_to_yaml(b);
    cr_assert_str_eq(again, yaml, "emitting is stable");
    free(again);
    free(yaml);
    aigtatt_cfg_free(a);
    aigtatt_cfg_free(b);
}

Test(cfg, round_trip_tricky_scalars)
{
    round_trip("plain_yes: yes\n"
               "quoted_yes: \"yes\"\n"
               "plain_num: 123\n"
               "quoted_num: \"123\"\n"
               "single: '0.5'\n"
               "colon: \"a: b\"\n"
               "empty_quoted: \"\"\n"
               "empty_plain:\n"
               "hash: \"#x\"\n"
               "tilde: \"~\"\n"
               "plain_tilde: ~\n"
               "dash: \"- x\"\n"
               "lead_space: \"  x\"\n"
               "trail_space: \"x  \"\n"
               "brackets: \"[1, 2]\"\n"
               "unicode: \"caf\xc3\xa9 \xe2\x9c\x93\"\n"
               "tab: \"a\\tb\"\n"
               "multi: |\n  line one\n  line two\n"
               "multi_keep: \"a\\nb\\n\\n\"\n"
               "multi_strip: \"a\\nb\"\n"
               "quote_chars: \"it's \\\"x\\\"\"\n"
               "\"key: with colon\": 1\n"
               "\"\": empty key\n"
               "\"123\": numeric key\n"
               "list:\n  - 1\n  - \"1\"\n  - []\n  - {}\n  - [a, [b, {c: d}]]\n"
               "map: {}\n");
}

Test(cfg, round_trip_roots_and_nesting)
{
    round_trip("[1, \"2\", three]\n");
    round_trip("just a plain scalar\n");
    char *t = nested_flow(AIGTATT_CFG_MAX_DEPTH);
    round_trip(t);
    free(t);
}

Test(cfg, emitted_text_keeps_strings_strings)
{
    aigtatt_cfg *a = load_ok("a: \"yes\"\nb: 7\n");
    char *yaml = aigtatt_cfg_to_yaml(a);
    cr_assert_str_eq(yaml, "a: \"yes\"\nb: 7\n");
    free(yaml);
    aigtatt_cfg_free(a);
    cr_assert_null(aigtatt_cfg_to_yaml(NULL));
}
