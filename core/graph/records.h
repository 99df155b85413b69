/* Record sets: the JSONL manifests behind "prompts" and "images" ports.
 * One JSON object per line: {"id", "identity", "role", "path", "text",
 * "source", "split", "meta": {...}}; absent fields are left out. */
#ifndef AIGTATT_CORE_RECORDS_H
#define AIGTATT_CORE_RECORDS_H

#include <aigtatt/aigtatt.h>

#define AIGTATT_MANIFEST_NAME "manifest.jsonl"

struct aigtatt_set {
    char *dir;             /* absolute folder the paths are relative to */
    aigtatt_record *recs;  /* every string malloc'ed by the set */
    size_t n;
};

/** Reads <dir>/manifest.jsonl; a missing manifest is an empty set. Errors
 *  name file:line. */
int aigtatt_set_read(const char *dir, aigtatt_set **out);
void aigtatt_set_free(aigtatt_set *set);

/** A growing list of records being written by a node (thread-safe). */
typedef struct aigtatt_set_writer aigtatt_set_writer;
aigtatt_set_writer *aigtatt_set_writer_new(const char *dir);
/** Copies `rec` (validating id, path and meta_json). */
int aigtatt_set_writer_add(aigtatt_set_writer *w, const aigtatt_record *rec);
size_t aigtatt_set_writer_count(const aigtatt_set_writer *w);
/** Sorts by id, checks that every path exists under the folder, and writes
 *  the manifest atomically. Writes nothing when no record was added. */
int aigtatt_set_writer_finish(aigtatt_set_writer *w);
void aigtatt_set_writer_free(aigtatt_set_writer *w);

/** Copies a record of any struct_size into a full one (zero-extended). */
void aigtatt_record_normalise(const aigtatt_record *in, aigtatt_record *out);

#endif
