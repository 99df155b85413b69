/* docs/yaml-reference.md's component section must be exactly what the
 * built plugins declare (`aigtatt plugins reference`), so it cannot drift. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

Test(docs, yaml_reference_matches_declarations)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/yaml-reference.md", th_env("AIGTATT_TEST_SOURCE_DIR"));
    char *doc = th_read(path);
    cr_assert_not_null(doc, "cannot read %s", path);
    const char *begin = "<!-- BEGIN GENERATED: aigtatt plugins reference -->\n";
    char *b = strstr(doc, begin);
    char *e = strstr(doc, "<!-- END GENERATED -->");
    cr_assert(b && e && e > b, "markers missing in %s", path);
    b += strlen(begin);
    *e = '\0';
    char *ref;
    int rc = th_sh(&ref, "env -u AIGTATT_PLUGIN_PATH %s plugins reference 2>/dev/null", th_env("AIGTATT_BIN"));
    cr_assert_eq(rc, 0);
    /* Compare ignoring trailing newlines. */
    size_t lb = strlen(b), lr = strlen(ref);
    while (lb && b[lb - 1] == '\n')
        b[--lb] = '\0';
    while (lr && ref[lr - 1] == '\n')
        ref[--lr] = '\0';
    cr_assert(strcmp(b, ref) == 0,
              "docs/yaml-reference.md is out of date: run scripts/gen-docs.sh\n--- doc ---\n%.2000s\n--- built ---\n%.2000s",
              b, ref);
    free(ref);
    free(doc);
}

Test(docs, every_builtin_parameter_has_doc_and_components_have_summary)
{
    char *out;
    int rc = th_sh(&out, "env -u AIGTATT_PLUGIN_PATH %s plugins list", th_env("AIGTATT_BIN"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "refused plugins"), "an in-tree plugin is refused:\n%s", out);
    free(out);
}
