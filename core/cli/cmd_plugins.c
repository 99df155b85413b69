/* plugins list / info / reference. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plugin/registry.h"
#include "util/buf.h"
#include "util/error.h"

static const char plugins_help[] =
    "usage: aigtatt plugins list\n"
    "       aigtatt plugins info COMPONENT\n"
    "       aigtatt plugins reference\n"
    "\n"
    "list       every loaded component, and every refused plugin with the reason\n"
    "info       a component's kind, ports and parameters (type, default, range, doc)\n"
    "reference  the Markdown parameter reference of every component (the source\n"
    "           of docs/yaml-reference.md's component section)\n";

static const char *type_name(aigtatt_param_type t)
{
    switch (t) {
    case AIGTATT_PARAM_BOOL: return "bool";
    case AIGTATT_PARAM_INT: return "int";
    case AIGTATT_PARAM_FLOAT: return "float";
    case AIGTATT_PARAM_STRING: return "string";
    case AIGTATT_PARAM_ENUM: return "enum";
    case AIGTATT_PARAM_PATH: return "path";
    case AIGTATT_PARAM_LIST: return "list";
    case AIGTATT_PARAM_MAP: return "map";
    }
    return "?";
}

static void range_text(const aigtatt_param_desc *p, char *buf, size_t n)
{
    buf[0] = '\0';
    if (p->type == AIGTATT_PARAM_ENUM && p->choices) {
        snprintf(buf, n, "%s", p->choices);
        return;
    }
    if (p->type == AIGTATT_PARAM_LIST && p->item_type) {
        snprintf(buf, n, "items: %s", type_name(p->item_type));
        return;
    }
    if (p->has_min && p->has_max)
        snprintf(buf, n, "%g..%g", p->min, p->max);
    else if (p->has_min)
        snprintf(buf, n, ">= %g", p->min);
    else if (p->has_max)
        snprintf(buf, n, "<= %g", p->max);
}

static int list(void)
{
    size_t n = aigtatt_registry_component_count();
    printf("%zu component%s:\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const aigtatt_component *c = aigtatt_registry_component_at(i);
        printf("  %-24s %-14s %-8s %s\n", c->desc.name, aigtatt_kind_name(c->desc.kind), c->desc.version,
               c->desc.summary);
    }
    size_t np = aigtatt_registry_plugin_count(), refused = 0;
    printf("\nplugins (searched %s):\n", aigtatt_registry_searched());
    for (size_t i = 0; i < np; i++) {
        const aigtatt_plugin_rec *p = aigtatt_registry_plugin_at(i);
        if (p->ok)
            printf("  %-24s %-8s %-10s %s\n", p->desc.name, p->desc.version,
                   p->desc.license ? p->desc.license : "?", p->path);
        else
            refused++;
    }
    if (refused) {
        printf("\nrefused plugins:\n");
        for (size_t i = 0; i < np; i++) {
            const aigtatt_plugin_rec *p = aigtatt_registry_plugin_at(i);
            if (!p->ok)
                printf("  %s\n", p->problem);
        }
    }
    return EXIT_OK;
}

/* Appended to the doc of a parameter declared no_key, so users know that
 * changing it does not rerun the node. */
#define NO_KEY_NOTE " (Not in the cache key: changing it reuses cached results.)"

static void ports(const char *title, const aigtatt_port_desc *p, size_t n, int inputs)
{
    printf("%s:\n", title);
    if (!n)
        printf("  (none)\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-16s %-12s%s %s\n", p[i].name, p[i].type, inputs && p[i].optional ? " (optional)" : "",
               p[i].doc ? p[i].doc : "");
}

static int info(const char *name)
{
    const aigtatt_component *c = aigtatt_registry_find(name);
    if (!c) {
        aigtatt_registry_explain_missing(name);
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        return EXIT_INVALID;
    }
    printf("%s %s (%s)\n  %s\n", c->desc.name, c->desc.version, aigtatt_kind_name(c->desc.kind), c->desc.summary);
    printf("plugin: %s %s, %s, %s\n", c->plugin->desc.name, c->plugin->desc.version,
           c->plugin->desc.license ? c->plugin->desc.license : "license not stated", c->plugin->path);
    if (c->desc.doc)
        printf("\n%s\n", c->desc.doc);
    printf("\n");
    if (AIGTATT_KIND_IS_NODE(c->desc.kind)) {
        ports("inputs", c->inputs, c->n_inputs, 1);
        ports("outputs", c->outputs, c->n_outputs, 0);
        printf("\n");
    }
    printf("parameters:\n");
    if (!c->n_params)
        printf("  (none)\n");
    for (size_t i = 0; i < c->n_params; i++) {
        const aigtatt_param_desc *p = &c->params[i];
        char range[256];
        range_text(p, range, sizeof range);
        printf("  %s (%s)", p->name, type_name(p->type));
        if (p->default_value)
            printf(" = %s", p->default_value);
        else
            printf(", required");
        if (range[0])
            printf("  [%s]", range);
        printf("\n      %s%s\n", p->doc, p->no_key ? NO_KEY_NOTE : "");
    }
    return EXIT_OK;
}

/* Markdown reference generated from the declarations, so the docs cannot
 * drift from the code (a test compares it with docs/yaml-reference.md). */
static int reference(void)
{
    size_t n = aigtatt_registry_component_count();
    for (size_t i = 0; i < n; i++) {
        const aigtatt_component *c = aigtatt_registry_component_at(i);
        printf("### `%s` (%s, %s)\n\n%s\n\n", c->desc.name, aigtatt_kind_name(c->desc.kind), c->desc.version,
               c->desc.summary);
        if (AIGTATT_KIND_IS_NODE(c->desc.kind)) {
            for (size_t k = 0; k < c->n_inputs; k++)
                printf("- input `%s` (%s)%s: %s\n", c->inputs[k].name, c->inputs[k].type,
                       c->inputs[k].optional ? ", optional" : "", c->inputs[k].doc ? c->inputs[k].doc : "");
            for (size_t k = 0; k < c->n_outputs; k++)
                printf("- output `%s` (%s): %s\n", c->outputs[k].name, c->outputs[k].type,
                       c->outputs[k].doc ? c->outputs[k].doc : "");
            printf("\n");
        }
        if (!c->n_params) {
            printf("No parameters.\n\n");
            continue;
        }
        printf("| parameter | type | default | range | meaning |\n|---|---|---|---|---|\n");
        for (size_t k = 0; k < c->n_params; k++) {
            const aigtatt_param_desc *p = &c->params[k];
            char range[256];
            range_text(p, range, sizeof range);
            printf("| `%s` | %s | %s | %s | %s%s |\n", p->name, type_name(p->type),
                   p->default_value ? p->default_value : "*required*", range, p->doc,
                   p->no_key ? NO_KEY_NOTE : "");
        }
        printf("\n");
    }
    return EXIT_OK;
}

int cmd_plugins(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("plugins", "expected 'list', 'info NAME' or 'reference'");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
        fputs(plugins_help, stdout);
        return EXIT_OK;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(plugins_help, stdout);
            return EXIT_OK;
        }
    aigtatt_registry_load_default();
    if (!strcmp(sub, "list") && argc == 2)
        return list();
    if (!strcmp(sub, "info") && argc == 3)
        return info(argv[2]);
    if (!strcmp(sub, "reference") && argc == 2)
        return reference();
    return usage_error("plugins", "expected 'list', 'info NAME' or 'reference'");
}
