/* An experiment: the YAML graph of nodes, checked and ordered before
 * anything runs. */
#ifndef AIGTATT_CORE_EXPERIMENT_H
#define AIGTATT_CORE_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>
#include "config/cfg.h"
#include "config/params.h"
#include "plugin/registry.h"

typedef struct aigtatt_input_ref {
    char *port;        /* this node's input port */
    char *node;        /* upstream node id */
    char *out_port;    /* upstream output port */
    size_t node_index; /* index of the upstream node */
    const aigtatt_cfg *where;
} aigtatt_input_ref;

typedef struct aigtatt_node {
    char *id;
    const aigtatt_cfg *cfg;          /* the node's mapping */
    const aigtatt_component *comp;
    aigtatt_params *params;
    aigtatt_input_ref *inputs;
    size_t n_inputs;
    uint64_t seed;
    char key[65];                    /* cache key, set by aigtatt_experiment_keys */
    char *uses;                      /* JSON {component: version} of what uses()
                                        named for the key; NULL for none */
} aigtatt_node;

typedef struct aigtatt_experiment {
    aigtatt_cfg *root;
    char *path;       /* absolute path of the YAML file */
    char *base_dir;   /* its folder: relative paths start here */
    char *name;
    char *description;
    uint64_t seed;
    char *workdir;    /* absolute */
    aigtatt_node *nodes;
    size_t n_nodes;
    size_t *order;    /* topological order, indices into nodes */
} aigtatt_experiment;

/** One `--set key=value` override: "node.param", "seed", "workdir", ... */
typedef struct aigtatt_override {
    const char *key;
    const char *value;
} aigtatt_override;

/** Loads, overrides, validates and orders an experiment. Every problem is
 *  reported with file:line:col (an override with "--set key"). `workdir`
 *  (may be NULL) replaces the file's `workdir:`. Needs the registry loaded.
 *  On failure *out is NULL and the error text says what is wrong; the
 *  status is AIGTATT_ERR_INVALID for a bad experiment, AIGTATT_ERR_IO when
 *  the file cannot be read. */
int aigtatt_experiment_load(const char *path, const aigtatt_override *overrides, size_t n_overrides,
                            const char *workdir, aigtatt_experiment **out);
void aigtatt_experiment_free(aigtatt_experiment *e);
/** Index of node `id`, or -1. */
long aigtatt_experiment_find(const aigtatt_experiment *e, const char *id);
/** Computes every node's cache key in topological order. */
int aigtatt_experiment_keys(aigtatt_experiment *e);
/** Graphviz DOT of the graph (malloc'ed). */
char *aigtatt_experiment_dot(const aigtatt_experiment *e);

#endif
