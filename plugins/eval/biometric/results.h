/* What the evaluation writes: metrics.json, the seed's results CSV and the
 * curves as CSV. No host dependency; files are written whole to a buffer
 * and handed to a writer function so the node can publish them
 * atomically. */
#ifndef BM_RESULTS_H
#define BM_RESULTS_H

#include "protocol.h"

typedef struct bm_report_in {
    const char *component, *version; /* who computed it */
    const char *source;              /* where the embeddings came from */
    const bm_emb *emb;
    const bm_ver_cfg *ver_cfg;
    const bm_id_cfg *id_cfg;
    const char *closed_protocol;     /* "k-fold", "roles" or NULL (off) */
    const bm_ver_result *ver;        /* NULL or !done: not run */
    const bm_closed_result *closed;
    const bm_open_result *open;
    const bm_env *env;               /* warnings */
    const char *backbone, *margin;   /* seed CSV columns, may be "" */
    int csv_percent;                 /* seed CSV in percent, else fractions */
    size_t curve_points;             /* cap on rows of each curve CSV */
    /* Thumbnails of the worst searches in report.html: the image of row
     * `row` as 8-bit RGBA, w x h, rows packed (*rgba malloc'd, freed by
     * the caller), decoded at no less than min_side on both sides where
     * the decoder can scale. Returns 0, or non-zero when the row has no
     * readable image (the report then shows its id only). NULL: ids only. */
    int (*image)(void *ctx, size_t row, int min_side, unsigned char **rgba, int *w, int *h);
    void *image_ctx;
} bm_report_in;

/* Writes `size` bytes to `name` under the output folder; returns 0 or a
 * status. */
typedef int (*bm_write_fn)(void *ctx, const char *name, const void *data, size_t size);

/* metrics.json, results.csv, verification_det.csv, verification_roc.csv,
 * cmc.csv, open_set_det.csv (those that apply). */
int bm_write_reports(const bm_report_in *in, bm_write_fn write, void *ctx, char *err);

/* The JSON document alone (caller frees with free()). */
char *bm_metrics_json(const bm_report_in *in);

const char *bm_impostors_name(bm_impostors m);
const char *bm_ties_name(bm_ties t);

#endif
