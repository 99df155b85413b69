/* Running an experiment: cache look-ups, atomic publication of node
 * outputs, the run folder and the lock file.
 *
 * Layout under the experiment's workdir:
 *   cache/<node>/<key16>/<port>/...   one complete node result per key
 *   cache/<node>/<key16>/node.json    what made it (written before publish)
 *   runs/<stamp>/resolved.yaml        the experiment after --set
 *   runs/<stamp>/lock.json            keys, seeds, resolved params, status
 *   runs/<stamp>/nodes/<node>         symlink to the node's cache entry
 *   latest -> runs/<stamp>            the newest run
 *   aigtatt.lock                      copy of the newest lock.json
 *   state/                            nodes' resumable work (host->run_state_dir)
 * A node result is built in cache/<node>/.tmp-<key16>-<pid> and renamed into
 * place only after the node succeeded, so a crash or Ctrl-C never leaves a
 * folder under a final name; leftovers are removed by the next run. */
#ifndef AIGTATT_CORE_RUNNER_H
#define AIGTATT_CORE_RUNNER_H

#include "graph/experiment.h"
#include "graph/records.h"

typedef struct aigtatt_run_opts {
    const char *const *force; /* node ids to rerun with everything downstream */
    size_t n_force;
} aigtatt_run_opts;

typedef struct aigtatt_run_summary {
    size_t ran, cached, failed, skipped;
    char run_dir[4096];
    int interrupted;
} aigtatt_run_summary;

/** Runs every node in order. Returns AIGTATT_OK, AIGTATT_ERR_CANCELLED, or
 *  the failing node's status with the error text naming node, component and
 *  YAML location. Needs keys computed (aigtatt_experiment_keys). */
int aigtatt_experiment_run(aigtatt_experiment *e, const aigtatt_run_opts *opts, aigtatt_run_summary *summary);

/* Host-table functions on the running node. */
const char *aigtatt_run_node_id(const aigtatt_run *run);
uint64_t aigtatt_run_seed(const aigtatt_run *run);
const char *aigtatt_run_key(const aigtatt_run *run);
int aigtatt_run_forced(const aigtatt_run *run);
/* host->run_remove_after_publish */
int aigtatt_run_remove_after_publish(aigtatt_run *run, const char *path);
const aigtatt_params *aigtatt_run_params(const aigtatt_run *run);
const char *aigtatt_run_input_dir(const aigtatt_run *run, const char *port);
const char *aigtatt_run_output_dir(const aigtatt_run *run, const char *port);
int aigtatt_run_set_open(const aigtatt_run *run, const char *port, aigtatt_set **out);
int aigtatt_run_output_add(aigtatt_run *run, const char *port, const aigtatt_record *rec);
const char *aigtatt_run_state_dir(const aigtatt_run *run);

#endif
