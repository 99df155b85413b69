/* The registry: every plugin the loader looked at, and every component of
 * the ones it accepted. The one piece of process-wide state in the core. */
#ifndef AIGTATT_CORE_REGISTRY_H
#define AIGTATT_CORE_REGISTRY_H

#include <stddef.h>
#include <aigtatt/aigtatt.h>

typedef struct aigtatt_plugin_rec {
    char *path;           /* absolute path of the .so */
    int ok;               /* accepted and initialised */
    char *problem;        /* why it was refused (ok == 0) */
    aigtatt_plugin_desc desc; /* host copy; zero when unreadable */
    char **component_names;   /* names it declared, when readable */
    size_t n_component_names;
} aigtatt_plugin_rec;

typedef struct aigtatt_component {
    aigtatt_component_desc desc;   /* host copy, zero-extended */
    const aigtatt_plugin_rec *plugin;
    aigtatt_node_vtable node;      /* node kinds: zero-extended copy */
    aigtatt_param_desc *params;    /* zero-extended copies */
    size_t n_params;
    aigtatt_port_desc *inputs;
    size_t n_inputs;
    aigtatt_port_desc *outputs;
    size_t n_outputs;
} aigtatt_component;

/** Loads the default search path once: the build tree's plugin folder when
 *  the running executable is the build tree's, else the install folder next
 *  to it; then every folder in AIGTATT_PLUGIN_PATH (':'-separated). Refused
 *  plugins are logged as warnings and remembered. Idempotent. */
void aigtatt_registry_load_default(void);
/** Loads every *.so of `dir` in name order. */
void aigtatt_registry_scan_dir(const char *dir);
/** Loads one plugin file. AIGTATT_OK if accepted; otherwise the reason is
 *  in the error text and in the plugin's record. */
int aigtatt_registry_load_file(const char *path);
/** Forgets everything (tests); loaded objects stay mapped. */
void aigtatt_registry_reset(void);

const aigtatt_component *aigtatt_registry_find(const char *name);
size_t aigtatt_registry_component_count(void);
/** Components sorted by name. */
const aigtatt_component *aigtatt_registry_component_at(size_t i);
size_t aigtatt_registry_plugin_count(void);
const aigtatt_plugin_rec *aigtatt_registry_plugin_at(size_t i);
/** Sets an error explaining why `name` is not available: a refused plugin
 *  that declared it, or the nearest known names. */
void aigtatt_registry_explain_missing(const char *name);
/** The folders searched, for messages ("searched: a, b"). Static text. */
const char *aigtatt_registry_searched(void);
/** Human name of a kind ("image_source"). */
const char *aigtatt_kind_name(aigtatt_kind kind);

#endif
