/* docs/providers.md's parameter reference must be what the provider
 * plugins declare (tests/provider/gen_docs.py rewrites it). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/ph.h"

static const char *const names[] = {"prompt.openai", "image.openai", "image.replicate", "finetune.replicate",
                                    "image.sdapi"};

/* The "### `name`" section of a reference text, up to the next one. */
static char *section(const char *ref, const char *name)
{
    char head[128];
    snprintf(head, sizeof head, "### `%s`", name);
    const char *s = strstr(ref, head);
    if (!s)
        return NULL;
    const char *e = strstr(s + 4, "\n### `");
    size_t n = e ? (size_t)(e - s) + 1 : strlen(s);
    char *o = strndup(s, n);
    while (n > 1 && o[n - 1] == '\n' && o[n - 2] == '\n')
        o[--n] = '\0';
    return o;
}

Test(provider_docs, reference_matches_declarations)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/providers.md", getenv("AIGTATT_TEST_SOURCE_DIR"));
    char *doc = ph_read(path, NULL);
    cr_assert_not_null(doc, "cannot read %s", path);
    char *b = strstr(doc, "<!-- BEGIN GENERATED: provider reference -->\n");
    char *e = strstr(doc, "<!-- END GENERATED -->");
    cr_assert(b && e && e > b, "markers missing in %s", path);
    *e = '\0';
    char cmd[4200], *ref = NULL;
    snprintf(cmd, sizeof cmd, "env -u AIGTATT_PLUGIN_PATH %s plugins reference 2>/dev/null", getenv("AIGTATT_BIN"));
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 20, len = 0, r;
    ref = malloc(cap);
    while ((r = fread(ref + len, 1, cap - len - 1, p)) > 0)
        len += r;
    ref[len] = '\0';
    pclose(p);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *want = section(ref, names[i]);
        char *have = section(b, names[i]);
        cr_assert_not_null(want, "%s is not built", names[i]);
        cr_assert_not_null(have, "docs/providers.md lacks %s", names[i]);
        cr_assert_str_eq(have, want, "docs/providers.md is out of date for %s: run "
                         "python3 tests/provider/gen_docs.py build/bin/aigtatt", names[i]);
        free(want);
        free(have);
    }
    free(ref);
    free(doc);
}
