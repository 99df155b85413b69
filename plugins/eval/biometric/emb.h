/* Embedding sets: an N x D float matrix with, per row, an id, a file path,
 * an identity label, the id of the record it was made from, and a role.
 * Readers for .npy, safetensors and CSV; the checks every protocol relies
 * on. No host dependency: errors come back as text in a caller's buffer. */
#ifndef BM_EMB_H
#define BM_EMB_H

#include <stddef.h>
#include <stdint.h>

#define BM_ERRLEN 512

typedef struct bm_emb {
    size_t n, d;
    float *x;        /* n x d, row-major */
    char **id;       /* per row; never NULL after bm_emb_finish() */
    char **path;     /* per row; may hold NULL entries */
    char **label;    /* identity label text; never NULL entries */
    char **source;   /* id or path of the record it was made from, or NULL */
    char **role;     /* "original", "variation", "gallery", ... or NULL */
    int32_t *lab;    /* dense identity index 0 .. n_labels - 1 */
    size_t n_labels;
    char **label_names; /* n_labels names, sorted; borrowed from `label` */
} bm_emb;

void bm_emb_free(bm_emb *e);

/* Reads a matrix only (no labels) from .npy (float32 or float64, either
 * byte order, C or Fortran order, 2-D) or safetensors (F32, F64, F16 or
 * BF16; `tensor` names it, NULL: "embeddings", else the only 2-D tensor).
 * The format is chosen by content, not by name. */
int bm_emb_read_matrix(const char *file, const char *tensor, bm_emb *e, char *err);

/* Reads a CSV of `path,label,f1,...,fd` rows (an optional header row is
 * recognised by a non-numeric third field, a first field "path", or a
 * second field "label" or "identity": pandas writes `path,label,0,1,...`). */
int bm_emb_read_csv(const char *file, bm_emb *e, char *err);

/* Reads the per-row labels of a matrix from a CSV/TSV text file with one
 * line per row: `path,label[,source[,role]]` (a header row starting with
 * "path" is skipped), or a single `label` column. The number of rows must
 * equal e->n. */
int bm_emb_read_labels(const char *file, bm_emb *e, char *err);

/* Replaces every label with the name of its path's parent folder (the
 * folder-per-identity layout test/<Tattoo-ID>/x.jpg). */
int bm_emb_labels_from_folders(bm_emb *e, char *err);

/* Fills ids (path, else "row<i>"), checks the set (non-empty, finite,
 * non-zero rows, labels present) and builds the dense label index. */
int bm_emb_finish(bm_emb *e, const char *what, char *err);

/* Scales every row to unit L2 norm (norms summed in double). */
void bm_emb_normalise(bm_emb *e);

/* Number of rows per label (n_labels entries, malloc'd), or NULL. */
size_t *bm_emb_label_counts(const bm_emb *e);

/* Rows of each identity, CSR-style: rows[start[l] .. start[l + 1]) are
 * those of label l, ordered by id (the image path), then row. Protocols
 * draw images by position in this order, so a draw picks the same image
 * however the rows of the file are ordered. */
typedef struct bm_groups {
    size_t *start, *rows;
} bm_groups;

/* AIGTATT_OK, or AIGTATT_ERR_NOMEM (g then holds nothing). */
int bm_emb_groups(const bm_emb *e, bm_groups *g);
void bm_groups_free(bm_groups *g);

/* Internal helpers shared by the readers. */
char *bm_strdup(const char *s);
int bm_alloc_rows(bm_emb *e, size_t n, char *err);

#endif
