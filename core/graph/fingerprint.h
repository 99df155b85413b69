/* Fingerprints of files and folders that parameters name, so a node that
 * reads user data (an image folder, an embeddings file, a prompt list)
 * reruns when that data changes, not only when its path does. */
#ifndef AIGTATT_CORE_FINGERPRINT_H
#define AIGTATT_CORE_FINGERPRINT_H

#include "util/hash.h"

/** Adds `path`'s state to `h`: for a file its size and modification time
 *  (nanoseconds); for a folder the same for every file below it, by
 *  sorted relative name (empty folders add nothing); "missing" when it
 *  does not exist. Like make, it
 *  trusts modification times rather than reading every byte. Workdirs are
 *  left out of the walk, since they change with every run: `exclude` (may
 *  be NULL; the experiment's own, by path) and any folder holding an
 *  aigtatt run lock (every workdir that has run, through any path). An
 *  empty folder adds nothing, so adding one does not rerun the node. */
void aigtatt_fingerprint_path(aigtatt_sha256 *h, const char *path, const char *exclude);

#endif
