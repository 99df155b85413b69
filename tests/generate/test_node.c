/* image.procedural as a node: run through the CLI after prompt.file, check
 * the layout, records and PNG sizes, that reruns and thread counts give the
 * same bytes, that the seed changes them, and that ranges are enforced. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static const char *cli(void)
{
    const char *b = getenv("AIGTATT_BIN");
    cr_assert(b && *b, "AIGTATT_BIN is not set (run through ctest)");
    return b;
}

static void write_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t r = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[r] = 0;
    if (len)
        *len = r;
    return b;
}

/* Runs a shell command in the test folder; returns the exit status and
 * leaves the output in out (for messages). */
static int sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[2300];
    snprintf(full, sizeof full, "cd %s && ( %s ) 2>&1", dir, cmd);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *const prompt_lines[] = {
    "dotwork mandala",
    "traditional rose and dagger with a banner",
    "a howling wolf, geometric",
    "\xE7\x8E\xAB\xE7\x91\xB0 rose \xF0\x9F\x8C\xB9 fine line",
    "japanese koi fish with waves",
};

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/pg-node-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char text[1024] = "";
    for (size_t i = 0; i < sizeof prompt_lines / sizeof prompt_lines[0]; i++) {
        strcat(text, prompt_lines[i]);
        strcat(text, "\n");
    }
    write_file("prompts.txt", text);
    write_file("x.yaml",
               "name: pg-node\n"
               "seed: 3\n"
               "nodes:\n"
               "  prompts:\n"
               "    use: prompt.file\n"
               "    params: {path: prompts.txt}\n"
               "  designs:\n"
               "    use: image.procedural\n"
               "    params: {width: 160, height: 120}\n"
               "    inputs: {prompts: prompts}\n"
               "  onskin:\n"
               "    use: image.procedural\n"
               "    params: {width: 96, height: 96, skin: true, color: none}\n"
               "    inputs: {prompts: prompts}\n");
}

static void teardown(void)
{
    char out[256];
    sh(out, sizeof out, "rm -rf %s", dir);
}

static void run_ok(const char *work, const char *extra)
{
    char out[8192];
    int rc = sh(out, sizeof out, "%s -q run x.yaml --plain --workdir %s %s", cli(), work, extra);
    cr_assert_eq(rc, 0, "run failed (%d):\n%s", rc, out);
}

static int png_size(const char *path, int *w, int *h)
{
    size_t n;
    unsigned char *b = (unsigned char *)read_file(path, &n);
    if (!b || n < 24 || memcmp(b, "\x89PNG", 4) != 0) {
        free(b);
        return -1;
    }
    *w = (b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19];
    *h = (b[20] << 24) | (b[21] << 16) | (b[22] << 8) | b[23];
    free(b);
    return 0;
}

static int same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = read_file(a, &na), *y = read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

TestSuite(procedural_node, .init = setup, .fini = teardown, .timeout = 240);

Test(procedural_node, writes_one_original_per_prompt)
{
    run_ok("w1", "--jobs 2");
    char mpath[512];
    snprintf(mpath, sizeof mpath, "%s/w1/latest/nodes/designs/images/manifest.jsonl", dir);
    char *man = read_file(mpath, NULL);
    cr_assert_not_null(man, "no manifest at %s", mpath);
    int lines = 0;
    for (char *line = strtok(man, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t err;
        json_t *r = json_loads(line, 0, &err);
        cr_assert_not_null(r, "bad manifest line: %s", err.text);
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *ident = json_string_value(json_object_get(r, "identity"));
        const char *role = json_string_value(json_object_get(r, "role"));
        const char *path = json_string_value(json_object_get(r, "path"));
        const char *src = json_string_value(json_object_get(r, "source"));
        const char *text = json_string_value(json_object_get(r, "text"));
        json_t *meta = json_object_get(r, "meta");
        cr_assert(id && ident && role && path && src && text && json_is_object(meta), "%s", line);
        char want[128];
        snprintf(want, sizeof want, "%s/original.png", ident);
        cr_assert_str_eq(path, want);
        snprintf(want, sizeof want, "%s/original", ident);
        cr_assert_str_eq(id, want);
        cr_assert_str_eq(role, "original");
        cr_assert_str_eq(src, ident, "source should be the prompt record");
        cr_assert(json_is_string(json_object_get(meta, "subject")), "meta lacks the subject: %s", line);
        cr_assert(json_is_string(json_object_get(meta, "style")), "meta lacks the style: %s", line);
        char png[512];
        snprintf(png, sizeof png, "%s/w1/latest/nodes/designs/images/%s", dir, path);
        int w = 0, h = 0;
        cr_assert_eq(png_size(png, &w, &h), 0, "%s is not a PNG", png);
        cr_assert(w == 160 && h == 120, "%s is %dx%d", png, w, h);
        snprintf(png, sizeof png, "%s/w1/latest/nodes/onskin/images/%s", dir, path);
        cr_assert_eq(png_size(png, &w, &h), 0, "%s is not a PNG", png);
        cr_assert(w == 96 && h == 96, "%s is %dx%d", png, w, h);
        json_decref(r);
        lines++;
    }
    free(man);
    cr_assert_eq(lines, 5);
}

Test(procedural_node, reruns_and_thread_counts_give_the_same_bytes_and_the_seed_changes_them)
{
    run_ok("w1", "--jobs 2");
    run_ok("w2", "--jobs 1");
    run_ok("w3", "--jobs 2 --set seed=4");
    int differ = 0;
    for (int i = 1; i <= 5; i++) {
        char a[512], b[512], c[512];
        for (int k = 0; k < 2; k++) {
            const char *node = k ? "onskin" : "designs";
            snprintf(a, sizeof a, "%s/w1/latest/nodes/%s/images/T%04d/original.png", dir, node, i);
            snprintf(b, sizeof b, "%s/w2/latest/nodes/%s/images/T%04d/original.png", dir, node, i);
            snprintf(c, sizeof c, "%s/w3/latest/nodes/%s/images/T%04d/original.png", dir, node, i);
            cr_assert(same_file(a, b), "%s and %s differ", a, b);
            differ += !same_file(a, c);
        }
    }
    cr_assert_eq(differ, 10, "a new seed changed only %d of 10 images", differ);
}

Test(procedural_node, out_of_range_parameters_are_refused)
{
    char out[8192];
    int rc = sh(out, sizeof out, "%s -q run x.yaml --plain --workdir w4 --set designs.width=10", cli());
    cr_assert_neq(rc, 0, "width 10 was accepted:\n%s", out);
    cr_assert(strstr(out, "width"), "the error does not name the parameter:\n%s", out);
    rc = sh(out, sizeof out, "%s -q run x.yaml --plain --workdir w5 --set designs.color=neon", cli());
    cr_assert_neq(rc, 0, "color neon was accepted:\n%s", out);
}
