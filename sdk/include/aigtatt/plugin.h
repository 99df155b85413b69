/* aigtatt SDK: the plugin descriptor and component descriptors.
 *
 * A plugin is a shared object that exports one data symbol,
 * `aigtatt_plugin` (use AIGTATT_PLUGIN_DEFINE), of type
 * aigtatt_plugin_desc. The host reads it before calling any plugin
 * function: struct sizes and ABI numbers are checked first, then the
 * component list, and only then is `init` called. */
#ifndef AIGTATT_PLUGIN_H
#define AIGTATT_PLUGIN_H

#include <stddef.h>
#include "version.h"
#include "types.h"
#include "params.h"

#ifdef __cplusplus
extern "C" {
#endif

struct aigtatt_host;
struct aigtatt_run;
struct aigtatt_params;

/** What a component is. Kinds up to AIGTATT_KIND_STEP are graph nodes and
 *  use aigtatt_node_vtable; the others are building blocks that nodes look
 *  up with aigtatt_host.find_component() and have vtables of their own. New
 *  kinds are only ever appended. */
typedef enum aigtatt_kind {
    AIGTATT_KIND_PROMPT_SOURCE = 1, /**< node: makes a "prompts" output */
    AIGTATT_KIND_IMAGE_SOURCE = 2,  /**< node: makes an "images" output */
    AIGTATT_KIND_CROPPER = 3,       /**< node: "images" in, "images" out */
    AIGTATT_KIND_AUGMENTER = 4,     /**< node: "images" in, "images" out */
    AIGTATT_KIND_TRAINER = 5,       /**< node: makes a "model" output */
    AIGTATT_KIND_EMBEDDER = 6,      /**< node: makes an "embeddings" output */
    AIGTATT_KIND_EVALUATOR = 7,     /**< node: makes a "metrics" output */
    AIGTATT_KIND_REPORTER = 8,      /**< node: makes a "report" output */
    AIGTATT_KIND_STEP = 9,          /**< node: anything else */
    AIGTATT_KIND_AUGMENT_OP = 32,   /**< building block: one image transform */
    AIGTATT_KIND_BACKBONE = 33,     /**< building block: a network body */
    AIGTATT_KIND_LOSS = 34,         /**< building block: a training loss */
    AIGTATT_KIND_OPTIMIZER = 35,    /**< building block: a parameter update rule */
    AIGTATT_KIND_BACKEND = 36,      /**< building block: runs compute graphs */
    AIGTATT_KIND_METRIC = 37        /**< building block: one evaluation metric */
} aigtatt_kind;

/** Non-zero when `kind` is a graph-node kind (uses aigtatt_node_vtable). */
#define AIGTATT_KIND_IS_NODE(kind) ((kind) >= 1 && (kind) <= 9)

/** The vtable of every graph-node component. */
typedef struct aigtatt_node_vtable {
    size_t struct_size; /**< sizeof(aigtatt_node_vtable) as the plugin knows it */
    /** Optional (NULL = nothing to check): cross-parameter validation run by
     *  `aigtatt validate` and before a run, after the host has checked each
     *  parameter's type and range. `params` is borrowed for the call. Return
     *  AIGTATT_OK, or a status after aigtatt_host.set_error() naming the
     *  parameter at fault. */
    int (*check)(const struct aigtatt_params *params);
    /** Required: do the node's work. Inputs are read and outputs written
     *  through the aigtatt_run handle, which is borrowed for the call. All
     *  files go under the output folders the host hands out; the host makes
     *  them visible atomically only after run() returns AIGTATT_OK. Long
     *  loops should poll aigtatt_host.cancelled(). Never exit or abort. */
    int (*run)(struct aigtatt_run *run);
    /** Optional: reports, by calling add(ctx, name) once per name, every
     *  building-block component (augment op, backbone, loss, ...) the node
     *  will look up for these parameters. The core puts their versions into
     *  the node's cache key, so a changed op reruns the node. Names that are
     *  not loaded are keyed as missing (check() should have refused them).
     *  `params` is borrowed for the call. */
    void (*uses)(const struct aigtatt_params *params, void (*add)(void *ctx, const char *component), void *ctx);
} aigtatt_node_vtable;

/** Describes one component. Fields are only ever appended; the host copies
 *  `struct_size` bytes into a zeroed struct of its own. */
typedef struct aigtatt_component_desc {
    size_t struct_size;      /**< sizeof(aigtatt_component_desc) as built */
    aigtatt_kind kind;       /**< what it is; selects the vtable type */
    const char *name;        /**< unique dotted name used by `use:` in YAML,
                                  e.g. "image.procedural"; [a-z0-9_.] only */
    const char *version;     /**< component version; part of every cache key,
                                  so bump it whenever outputs would change */
    const char *summary;     /**< one line for `aigtatt plugins list` */
    const char *doc;         /**< longer text for `aigtatt plugins info`, or NULL */
    const aigtatt_param_desc *params; /**< parameters, name-NULL terminated, or NULL */
    size_t param_desc_size;  /**< sizeof(aigtatt_param_desc) as built */
    const aigtatt_port_desc *inputs;  /**< input ports, or NULL for none */
    const aigtatt_port_desc *outputs; /**< output ports, or NULL for none */
    size_t port_desc_size;   /**< sizeof(aigtatt_port_desc) as built */
    const void *vtable;      /**< e.g. const aigtatt_node_vtable *; its first
                                  field is always its struct_size */
} aigtatt_component_desc;

/** Fills the `params` and `param_desc_size` fields from a static array. */
#define AIGTATT_PARAMS(array) .params = (array), .param_desc_size = sizeof((array)[0])
/** Fills `inputs`, `outputs` and `port_desc_size` from static arrays
 *  (either may be NULL). */
#define AIGTATT_PORTS(in, out) .inputs = (in), .outputs = (out), \
    .port_desc_size = sizeof(aigtatt_port_desc)

/** The plugin descriptor, exported as the data symbol `aigtatt_plugin`. */
typedef struct aigtatt_plugin_desc {
    size_t struct_size;   /**< sizeof(aigtatt_plugin_desc) as built */
    int abi_major;        /**< AIGTATT_ABI_MAJOR the plugin was built against */
    int abi_minor;        /**< AIGTATT_ABI_MINOR the plugin was built against */
    const char *name;     /**< plugin name, e.g. "aigtatt-generate" */
    const char *version;  /**< plugin release version */
    const char *license;  /**< SPDX identifier, e.g. "MIT" */
    const char *description; /**< one line */
    /** NULL-terminated list of components; each pointer stays valid while
     *  the plugin is loaded (plugins are never unloaded). */
    const aigtatt_component_desc *const *components;
    /** Optional: called once after every check passed, before any component
     *  is used. `host` stays valid for the life of the process; keep it.
     *  Return AIGTATT_OK, or a status after host->set_error(); a failing
     *  plugin is skipped with a warning. */
    int (*init)(const struct aigtatt_host *host);
} aigtatt_plugin_desc;

#if defined(__GNUC__)
#define AIGTATT_EXPORT __attribute__((visibility("default")))
#else
#define AIGTATT_EXPORT
#endif

/** The name of the exported descriptor symbol. */
#define AIGTATT_PLUGIN_SYMBOL "aigtatt_plugin"

/** Defines the exported descriptor. Use once per plugin, at file scope:
 *
 *      AIGTATT_PLUGIN_DEFINE(.name = "my-plugin", .version = "1.0.0",
 *                            .license = "MIT", .description = "...",
 *                            .components = my_components, .init = my_init);
 */
#define AIGTATT_PLUGIN_DEFINE(...) \
    AIGTATT_EXPORT extern const aigtatt_plugin_desc aigtatt_plugin; \
    AIGTATT_EXPORT const aigtatt_plugin_desc aigtatt_plugin = { \
        .struct_size = sizeof(aigtatt_plugin_desc), \
        .abi_major = AIGTATT_ABI_MAJOR, .abi_minor = AIGTATT_ABI_MINOR, \
        __VA_ARGS__ }

#ifdef __cplusplus
}
#endif
#endif
