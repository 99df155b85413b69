/* Fingerprints of files and folders that parameters name, so a node that
 * reads user data (an image folder, an embeddings file, a prompt list)
 * reruns when that data changes, not only when its path does. */
#ifndef AIGTATT_CORE_FINGERPRINT_H
#define AIGTATT_CORE_FINGERPRINT_H

#include "util/hash.h"

/** Adds `path`'s state to `h`: for a file its size and modification time
 *  (nanoseconds); for a folder the same for every entry below it, by
 *  sorted relative name; "missing" when it does not exist. Like make, it
 *  trusts modification times rather than reading every byte. `exclude`
 *  (may be NULL) is a folder left out of the walk: the experiment's own
 *  workdir, which changes with every run. */
void aigtatt_fingerprint_path(aigtatt_sha256 *h, const char *path, const char *exclude);

#endif
