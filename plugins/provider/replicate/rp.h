/* Internals of the Replicate plugin (prefix rp_): image.replicate and
 * finetune.replicate. */
#ifndef RP_H
#define RP_H

#include "pv.h"

extern const aigtatt_component_desc rp_image_desc;
extern const aigtatt_component_desc rp_finetune_desc;

/* The SDXL model and trainer of the seed study. */
#define RP_SDXL "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"

/* "owner/name:version", "owner/name" or a bare version id. */
typedef struct rp_ref {
    char owner[128], name[128], version[128];
} rp_ref;

/* Parses a model reference; `need_version` refuses one without a version.
 * Sets an error naming `param`. */
int rp_parse_ref(const char *s, rp_ref *r, int need_version, const char *param);

/* Non-zero for an id Replicate could have issued ([A-Za-z0-9_-], 1..128). */
int rp_id_ok(const char *s);

/* Non-zero for "succeeded", "failed", "canceled" (and "aborted"). */
int rp_terminal(const char *status);
/* A job a stopped run left behind is worth polling again: still running,
 * or succeeded (its output is waiting); not failed, canceled or aborted. */
int rp_resumable(const char *status);

/* Polls <base>/<kind>/<id> ("predictions" or "trainings") every poll_ms
 * until *obj reaches a terminal status or deadline_ms (monotonic) passes,
 * then cancels it (POST .../cancel) and fails. *obj is replaced by each
 * answer. On Ctrl-C returns AIGTATT_ERR_CANCELLED and leaves the job
 * running (its id is in the resume store). */
int rp_wait(pv_api *api, const char *kind, json_t **obj, int64_t poll_ms, int64_t deadline_ms, pv_verdict *verdict);

/* GET <base>/<kind>/<id> into *obj. */
int rp_get(pv_api *api, const char *kind, const char *id, json_t **obj, int *status, pv_verdict *verdict);

/* Downloads one output file: a data: URI or a URL (the key travels only to
 * base_url's own host). */
int rp_download(pv_api *api, const char *url, pv_blob *out, pv_verdict *verdict, int *status);

/* ---- a small ZIP writer (rp_zip.c) --------------------------------------- */

typedef struct rp_zip {
    unsigned char *data, *cd;
    size_t len, cap, cd_len, cd_cap;
    size_t count;
    int failed;
} rp_zip;

/* Adds a file; deflated (zlib) when that makes it smaller, else stored.
 * Fixed timestamps, so the same files give the same bytes. */
int rp_zip_add(rp_zip *z, const char *name, const void *data, size_t len);
/* Writes the central directory; the archive is z->data, z->len bytes. */
int rp_zip_finish(rp_zip *z);
void rp_zip_free(rp_zip *z);

#endif
