/* eval.biometric: the evaluation node. Reads embeddings (from an upstream
 * node's "embeddings" port or a file), runs the verification, closed-set
 * and open-set protocols and writes metrics.json, the seed's results.csv
 * and curve CSVs into its "metrics" output. */
#include <aigtatt/aigtatt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protocol.h"
#include "results.h"
#ifdef BM_HAVE_CAIRO
#include "report.h"
#endif

/* 0.3.0: draws for an identity are keyed by its name and pick among its
 * rows in path order (closed-set folds, open-set split and images,
 * per_identity and sampled impostors), so metrics no longer change when
 * the rows are shuffled or a left-out identity is added; the same seed
 * gives other folds than 0.2.1. */
#define BM_VERSION "0.3.0"

static const aigtatt_host *H;

static int bm_init(const aigtatt_host *host)
{
    H = host;
    return AIGTATT_OK;
}

/* ---- parameters ------------------------------------------------------ */

static int enum_index(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (v && !strcmp(v, names[i]))
            return i;
    return 0;
}

static const char *const imp_names[] = {"auto", "all", "per_identity", "sample", NULL};
static const char *const pol_names[] = {"warn", "flip", "error", NULL};
static const char *const tie_names[] = {"pessimistic", "optimistic", "gallery_order", NULL};
static const char *const single_names[] = {"error", "skip", "distractor", NULL};
static const char *const gemm_names[] = {"auto", "builtin", "onednn", NULL};

/* precision_at: a list of positive integers. */
static int read_pk(const aigtatt_params *p, bm_id_cfg *c)
{
    const aigtatt_cfg *l = H->param_cfg(p, "precision_at");
    size_t n = H->cfg_len(l);
    if (n > BM_MAX_PK) {
        H->set_error("precision_at: at most %d values", BM_MAX_PK);
        return AIGTATT_ERR_INVALID;
    }
    c->n_pk = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = H->cfg_scalar(H->cfg_at(l, i));
        char *end;
        long long k = s ? strtoll(s, &end, 10) : 0;
        if (!s || *end || k < 1) {
            char where[128];
            H->set_error("%s: precision_at items must be integers >= 1",
                         H->cfg_where(H->cfg_at(l, i), where, sizeof where));
            return AIGTATT_ERR_INVALID;
        }
        c->pk[c->n_pk++] = (size_t)k;
    }
    return AIGTATT_OK;
}

static int bm_check(const aigtatt_params *p)
{
    bm_id_cfg c;
    int rc = read_pk(p, &c);
    if (rc)
        return rc;
    const char *closed = H->param_string(p, "closed_set");
    if (closed && !strcmp(closed, "roles")) {
        const char *g = H->param_string(p, "gallery_role"), *q = H->param_string(p, "probe_role");
        if (!g || !*g || !q || !*q) {
            H->set_error("closed_set: roles needs gallery_role and probe_role");
            return AIGTATT_ERR_INVALID;
        }
    }
    const char *gemm = H->param_string(p, "matmul");
    if (gemm && !strcmp(gemm, "onednn") && !bm_gemm_have_onednn()) {
        H->set_error("matmul: onednn, but this build of eval.biometric has no oneDNN; use auto or "
                     "builtin");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

/* ---- inputs ------------------------------------------------------------ */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Labels of an upstream port: its manifest, one record per row in the
 * manifest's (id) order. */
static int labels_from_manifest(aigtatt_run *run, bm_emb *e, const char *file)
{
    aigtatt_set *set = NULL;
    int rc = H->set_open(run, "embeddings", &set);
    if (rc)
        return rc;
    size_t n = H->set_count(set);
    if (n != e->n) {
        H->set_error("%s has %zu rows but the port's manifest.jsonl lists %zu records; they must "
                     "match one to one, in manifest order", file, e->n, n);
        H->set_close(set);
        return AIGTATT_ERR_INVALID;
    }
    for (size_t i = 0; i < n && rc == AIGTATT_OK; i++) {
        const aigtatt_record *r = H->set_record(set, i);
        if (!r->identity || !*r->identity) {
            H->set_error("manifest record '%s' (row %zu) has no identity", r->id, i + 1);
            rc = AIGTATT_ERR_INVALID;
            break;
        }
        e->id[i] = bm_strdup(r->id);
        e->label[i] = bm_strdup(r->identity);
        e->path[i] = bm_strdup(r->path);
        e->source[i] = bm_strdup(r->source);
        e->role[i] = bm_strdup(r->role);
        if (!e->id[i] || !e->label[i])
            rc = AIGTATT_ERR_NOMEM;
    }
    H->set_close(set);
    return rc;
}

static int load(aigtatt_run *run, const aigtatt_params *p, bm_emb *e, char *src, size_t srcsz)
{
    char err[BM_ERRLEN] = "";
    const char *dir = H->run_input_dir(run, "embeddings");
    const char *file = H->param_string(p, "embeddings");
    const char *labels = H->param_string(p, "labels");
    const char *tensor = H->param_string(p, "tensor");
    if (tensor && !*tensor)
        tensor = NULL;
    int rc;
    if (dir && file) {
        H->set_error("both the embeddings input and the embeddings parameter are set; use one");
        return AIGTATT_ERR_INVALID;
    }
    if (dir) {
        static const char *names[] = {"embeddings.safetensors", "embeddings.npy",
                                      "embeddings.csv", NULL};
        char path[4096] = "";
        for (int i = 0; names[i] && !*path; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            if (!exists(path))
                path[0] = 0;
        }
        if (!*path) {
            H->set_error("%s: the embeddings input holds none of embeddings.safetensors, "
                         "embeddings.npy or embeddings.csv", dir);
            return AIGTATT_ERR_FORMAT;
        }
        snprintf(src, srcsz, "%s", path);
        if (has_suffix(path, ".csv"))
            rc = bm_emb_read_csv(path, e, err);
        else if (!(rc = bm_emb_read_matrix(path, tensor, e, err)))
            return labels_from_manifest(run, e, path);
    } else if (file) {
        snprintf(src, srcsz, "%s", file);
        if (has_suffix(file, ".csv")) {
            rc = bm_emb_read_csv(file, e, err);
        } else {
            if (!labels) {
                H->set_error("%s: a .npy or safetensors matrix needs a labels file (labels: "
                             "FILE with path,label lines, one per row)", file);
                return AIGTATT_ERR_INVALID;
            }
            rc = bm_emb_read_matrix(file, tensor, e, err);
            if (!rc)
                rc = bm_emb_read_labels(labels, e, err);
        }
    } else {
        H->set_error("no embeddings: connect the embeddings input or set embeddings: FILE "
                     "(.safetensors, .npy with labels, or .csv with path,label,f1..fd)");
        return AIGTATT_ERR_INVALID;
    }
    if (rc)
        H->set_error("%s", err);
    return rc;
}

/* ---- outputs ------------------------------------------------------------ */

typedef struct out_ctx {
    const char *dir;
    char why[1024]; /* the host's reason for the first failed write */
} out_ctx;

static int write_out(void *ctx, const char *name, const void *data, size_t size)
{
    out_ctx *o = ctx;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->dir, name);
    int rc = H->write_file(path, data, size);
    if (rc && !o->why[0])
        snprintf(o->why, sizeof o->why, "%s", H->last_error());
    return rc;
}

/* err, with the host's reason (path, errno) when a write failed */
static void set_write_error(const out_ctx *o, const char *err)
{
    if (o->why[0])
        H->set_error("%s: %s", err, o->why);
    else
        H->set_error("%s", err);
}

/* ---- report thumbnails ------------------------------------------------ */

typedef struct img_ctx {
    const bm_emb *e;
    const char *root; /* relative image paths start here; NULL: as given */
    size_t tried, failed;
    char first[512];  /* the first failure, for the log */
} img_ctx;

static int load_image(void *ctx, size_t row, int min_side, unsigned char **rgba, int *w, int *h)
{
    img_ctx *c = ctx;
    const char *path = c->e->path[row];
    if (!path || !*path)
        return -1;
    char full[4096];
    if (path[0] == '/' || !c->root)
        snprintf(full, sizeof full, "%s", path);
    else
        snprintf(full, sizeof full, "%s/%s", c->root, path);
    c->tried++;
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 4, .min_width = min_side,
                                 .min_height = min_side};
    aigtatt_image *img = NULL;
    if (H->image_load(full, &o, &img) != AIGTATT_OK || !img || img->channels != 4) {
        if (c->failed++ == 0)
            snprintf(c->first, sizeof c->first, "%s", H->last_error());
        H->image_free(img);
        return -1;
    }
    size_t rb = (size_t)img->width * 4;
    unsigned char *px = malloc(rb * (size_t)img->height);
    if (!px) {
        H->image_free(img);
        return -1;
    }
    for (int32_t y = 0; y < img->height; y++)
        memcpy(px + (size_t)y * rb, img->data + (size_t)y * img->stride, rb);
    *rgba = px;
    *w = img->width;
    *h = img->height;
    H->image_free(img);
    return 0;
}

/* The folder of a file path (malloc'd), "." when it has none. */
static char *dir_of(const char *file)
{
    const char *sl = strrchr(file, '/');
    if (!sl)
        return bm_strdup(".");
    if (sl == file)
        return bm_strdup("/");
    char *d = malloc((size_t)(sl - file) + 1);
    if (d) {
        memcpy(d, file, (size_t)(sl - file));
        d[sl - file] = 0;
    }
    return d;
}

/* ---- run ------------------------------------------------------------- */

static int bm_run(aigtatt_run *run)
{
    const aigtatt_params *p = H->run_params(run);
    int rc = bm_check(p);
    if (rc)
        return rc;
    bm_emb e = {0};
    bm_env env = {0};
    bm_ver_result ver = {0};
    bm_closed_result closed = {0};
    bm_open_result open = {0};
    char src[4096] = "", err[BM_ERRLEN] = "", *root_own = NULL;
    if ((rc = load(run, p, &e, src, sizeof src)))
        goto done;
    if (!strcmp(H->param_string(p, "label_from"), "folder") &&
        (rc = bm_emb_labels_from_folders(&e, err))) {
        H->set_error("%s: %s", src, err);
        goto done;
    }
    if ((rc = bm_emb_finish(&e, src, err))) {
        H->set_error("%s", err);
        goto done;
    }
    bm_emb_normalise(&e);
    H->log(AIGTATT_LOG_INFO, "%zu embeddings of dimension %zu, %zu identities, from %s", e.n, e.d,
           e.n_labels, src);

    uint64_t seed = H->run_seed(run);
    env.parallel_for = H->parallel_for;
    env.cancelled = H->cancelled;
    env.seed_derive = H->seed_derive;
    env.gemm = (bm_gemm)enum_index(H->param_string(p, "matmul"), gemm_names);
    env.block_bytes = (size_t)H->param_int(p, "block_mb") << 20;

    bm_ver_cfg vc = {
        .seed = seed,
        .impostors = (bm_impostors)enum_index(H->param_string(p, "impostors"), imp_names),
        .max_pairs = (uint64_t)H->param_int(p, "max_pairs"),
        .sample_pairs = (uint64_t)H->param_int(p, "sample_pairs"),
        .polarity = (bm_polfix)enum_index(H->param_string(p, "polarity"), pol_names),
    };
    bm_id_cfg ic = {
        .seed = seed,
        .folds = (size_t)H->param_int(p, "folds"),
        .ties = (bm_ties)enum_index(H->param_string(p, "ties"), tie_names),
        .by_identity = !strcmp(H->param_string(p, "candidates"), "identities"),
        .max_rank = (size_t)H->param_int(p, "max_rank"),
        .singletons = (bm_singletons)enum_index(H->param_string(p, "singletons"), single_names),
        .exclude_source = H->param_bool(p, "exclude_source"),
        .enrolled_fraction = H->param_float(p, "enrolled_fraction"),
        .open_rank = (size_t)H->param_int(p, "open_rank"),
        .worst_probes = H->param_bool(p, "report") ? (size_t)H->param_int(p, "worst_probes") : 0,
        .worst_top_k = (size_t)H->param_int(p, "worst_top_k"),
    };
    read_pk(p, &ic);
    const char *closed_mode = H->param_string(p, "closed_set");
    if (!strcmp(closed_mode, "roles")) {
        ic.gallery_role = H->param_string(p, "gallery_role");
        ic.probe_role = H->param_string(p, "probe_role");
    }

    if (H->param_bool(p, "verification")) {
        if ((rc = bm_verify(&env, &e, &vc, &ver)))
            goto fail_env;
        H->log(AIGTATT_LOG_INFO, "verification: EER %.4f%% (%zu genuine, %zu impostor pairs)",
               100 * ver.st.eer.eer, ver.n_gen, ver.n_imp);
    }
    if (strcmp(closed_mode, "off")) {
        if ((rc = bm_closed_set(&env, &e, &ic, &closed)))
            goto fail_env;
        H->log(AIGTATT_LOG_INFO, "closed set: Rank-1 %.4f%% over %zu fold(s)",
               100 * closed.cmc[0].mean, closed.folds);
    }
    if (H->param_bool(p, "open_set")) {
        if ((rc = bm_open_set(&env, &e, &ic, &open)))
            goto fail_env;
        H->log(AIGTATT_LOG_INFO, "open set: EER %.4f%% at rank <= %zu over %zu fold(s)",
               100 * open.eer.mean, open.rank, open.folds);
    }
    for (size_t i = 0; i < env.n_warnings; i++)
        H->log(AIGTATT_LOG_WARN, "%s", env.warnings[i]);

    /* Thumbnails: image paths are relative to image_root, else to the
     * input port's folder or the embeddings file's folder. */
    const char *root = H->param_string(p, "image_root");
    if (!root) {
        const char *dir = H->run_input_dir(run, "embeddings");
        root = dir ? dir : (root_own = dir_of(src));
    }
    img_ctx ictx = {.e = &e, .root = root};
    bm_report_in in = {
        .component = "eval.biometric", .version = BM_VERSION, .source = src, .emb = &e,
        .ver_cfg = &vc, .id_cfg = &ic,
        .closed_protocol = !strcmp(closed_mode, "roles") ? "roles" : "k-fold",
        .ver = &ver, .closed = &closed, .open = &open, .env = &env,
        .backbone = H->param_string(p, "backbone"), .margin = H->param_string(p, "margin"),
        .csv_percent = !strcmp(H->param_string(p, "csv_units"), "percent"),
        .curve_points = (size_t)H->param_int(p, "curve_points"),
        .image = load_image, .image_ctx = &ictx,
    };
    out_ctx oc = {.dir = H->run_output_dir(run, "metrics")};
    if ((rc = bm_write_reports(&in, write_out, &oc, err))) {
        set_write_error(&oc, err);
        goto done;
    }
    if (H->param_bool(p, "report")) {
#ifdef BM_HAVE_CAIRO
        if ((rc = bm_write_plots_and_report(&in, write_out, &oc, err)))
            set_write_error(&oc, err);
        else if (ictx.failed)
            H->log(AIGTATT_LOG_WARN, "report: %zu of %zu images could not be read, shown by id "
                   "only (first: %s)", ictx.failed, ictx.tried, ictx.first);
#else
        H->log(AIGTATT_LOG_WARN, "report: this build has no cairo; no plots or report.html");
#endif
    }
    goto done;
fail_env:
    H->set_error("%s", env.err[0] ? env.err : "evaluation failed");
done:
    free(root_own);
    bm_ver_result_free(&ver);
    bm_closed_result_free(&closed);
    bm_open_result_free(&open);
    bm_env_free(&env);
    bm_emb_free(&e);
    return rc;
}

/* ---- descriptor -------------------------------------------------------- */

static const aigtatt_param_desc bm_params[] = {
    {.name = "embeddings", .type = AIGTATT_PARAM_PATH, .default_value = "~",
     .doc = "Embeddings file when no node feeds the embeddings input: .safetensors or .npy (N x D, "
            "float; needs labels) or .csv (path,label,f1..fd)."},
    {.name = "labels", .type = AIGTATT_PARAM_PATH, .default_value = "~",
     .doc = "Labels of a .npy/.safetensors file: one line per row, path,label[,source[,role]] "
            "(or just label); a header line starting with 'path' is skipped."},
    {.name = "tensor", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "Tensor to read from a safetensors file; empty: 'embeddings', else its only 2-D tensor."},
    {.name = "label_from", .type = AIGTATT_PARAM_ENUM, .default_value = "label",
     .choices = "label|folder",
     .doc = "Identity of a row: its label, or the name of its path's parent folder "
            "(test/<Tattoo-ID>/x.jpg)."},
    {.name = "verification", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Run verification: genuine = every same-identity pair, impostors per 'impostors'."},
    {.name = "impostors", .type = AIGTATT_PARAM_ENUM, .default_value = "auto",
     .choices = "auto|all|per_identity|sample",
     .doc = "Impostor pairs: all cross-identity pairs; per_identity (the seed's: one reference per "
            "identity against one probe of every other); a seeded sample; auto = all up to "
            "max_pairs, else per_identity while its pairs fit in max_pairs, else a sample of at most "
            "max_pairs."},
    {.name = "max_pairs", .type = AIGTATT_PARAM_INT, .default_value = "50000000", .has_min = 1,
     .min = 1, .doc = "Most impostor pairs that impostors: auto scores."},
    {.name = "sample_pairs", .type = AIGTATT_PARAM_INT, .default_value = "1000000", .has_min = 1,
     .min = 1, .doc = "Impostor pairs drawn (with replacement) by impostors: sample."},
    {.name = "polarity", .type = AIGTATT_PARAM_ENUM, .default_value = "warn",
     .choices = "warn|flip|error",
     .doc = "When genuine similarities average below impostor ones: warn, evaluate the negated "
            "scores in verification (flip; identification still ranks the highest similarity "
            "first), or fail."},
    {.name = "closed_set", .type = AIGTATT_PARAM_ENUM, .default_value = "kfold",
     .choices = "kfold|roles|off",
     .doc = "Closed-set identification: k folds of one gallery and one probe image per identity "
            "(the seed's), explicit gallery/probe roles, or off."},
    {.name = "open_set", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Run open-set identification (ISO/IEC 19795-1 FPIR/FNIR) over k folds."},
    {.name = "folds", .type = AIGTATT_PARAM_INT, .default_value = "5", .has_min = 1, .min = 1,
     .has_max = 1, .max = 1000, .doc = "k of the k-fold protocols; each fold is drawn from the node seed."},
    {.name = "ties", .type = AIGTATT_PARAM_ENUM, .default_value = "pessimistic",
     .choices = "pessimistic|optimistic|gallery_order",
     .doc = "A mate tied with non-mates ranks below them (pessimistic), above them, or by gallery "
            "order (pyeer's stable sort)."},
    {.name = "candidates", .type = AIGTATT_PARAM_ENUM, .default_value = "identities",
     .choices = "identities|images",
     .doc = "Candidate lists rank identities (each at its best image, ISO/IEC 19795-1) or images. With "
            "images, a probe counts at the rank of its first mate (ISO); pyeer's get_cmc_curve adds 1/N "
            "for every mate within the rank, so its curve rises faster where probes have several."},
    {.name = "max_rank", .type = AIGTATT_PARAM_INT, .default_value = "50", .has_min = 1, .min = 1,
     .has_max = 1, .max = 100000, .doc = "Length of the CMC curve (ranks 1..max_rank)."},
    {.name = "precision_at", .type = AIGTATT_PARAM_LIST, .default_value = "[1, 5, 10]",
     .item_type = AIGTATT_PARAM_INT, .doc = "k values of precision@k (at most 8)."},
    {.name = "singletons", .type = AIGTATT_PARAM_ENUM, .default_value = "error",
     .choices = "error|skip|distractor",
     .doc = "Identities with one image, where identification needs two: fail, leave them out, or "
            "use them as gallery distractors (closed set) and non-mated searches (open set)."},
    {.name = "gallery_role", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "closed_set: roles: the role of gallery rows (e.g. original)."},
    {.name = "probe_role", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "closed_set: roles: the role of probe rows (e.g. variation)."},
    {.name = "exclude_source", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "closed_set: roles: drop from a probe's candidates the gallery rows it was made from "
            "(BIVTatt: a transformed copy must find another original)."},
    {.name = "enrolled_fraction", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.5",
     .has_min = 1, .min = 0.01, .has_max = 1, .max = 0.99,
     .doc = "Open set: share of the identities with two or more images enrolled in each fold."},
    {.name = "open_rank", .type = AIGTATT_PARAM_INT, .default_value = "1", .has_min = 1, .min = 1,
     .doc = "Open set: a mated search is found only with its mate at rank <= this."},
    {.name = "matmul", .type = AIGTATT_PARAM_ENUM, .default_value = "auto",
     .choices = "auto|builtin|onednn",
     .doc = "Similarity products: oneDNN when built with it (auto), or the builtin kernel, "
            "bit-identical for any thread count."},
    {.name = "report", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Also write plots/*.png and *.svg (DET, ROC, CMC, score histograms, error rates) and "
            "a self-contained report.html."},
    {.name = "worst_probes", .type = AIGTATT_PARAM_INT, .default_value = "8", .has_min = 1,
     .min = 0, .has_max = 1, .max = 100,
     .doc = "report.html shows this many worst closed-set searches (highest rank of the true "
            "mate, then lowest mate score) with their first candidates; 0: none."},
    {.name = "worst_top_k", .type = AIGTATT_PARAM_INT, .default_value = "5", .has_min = 1,
     .min = 1, .has_max = 1, .max = 50,
     .doc = "Candidates shown per worst search (the true mate is added when it ranks lower)."},
    {.name = "image_root", .type = AIGTATT_PARAM_PATH, .default_value = "~",
     .doc = "Folder that relative image paths of the embeddings rows start from (thumbnails in "
            "report.html); unset: the input port's folder, or the embeddings file's folder."},
    {.name = "block_mb", .type = AIGTATT_PARAM_INT, .default_value = "32", .has_min = 1,
     .min = 1, .has_max = 1, .max = 65536,
     .doc = "MiB of scores a search thread holds at once: identification never builds the whole "
            "probe x gallery matrix (at least one gallery row per block)."},
    {.name = "backbone", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "Backbone column of results.csv."},
    {.name = "margin", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "Margin column of results.csv."},
    {.name = "csv_units", .type = AIGTATT_PARAM_ENUM, .default_value = "fraction",
     .choices = "fraction|percent",
     .doc = "Units of the rates in results.csv (metrics.json always holds fractions)."},
    {.name = "curve_points", .type = AIGTATT_PARAM_INT, .default_value = "2000", .has_min = 1,
     .min = 2, .doc = "Most rows written per curve CSV (evenly thinned)."},
    {.name = NULL},
};

static const aigtatt_port_desc bm_in[] = {
    {.name = "embeddings", .type = "embeddings", .optional = 1,
     .doc = "A folder with embeddings.safetensors (or .npy) and manifest.jsonl, one record per "
            "row in manifest order (identity, path, source, role), or embeddings.csv."},
    {.name = NULL},
};

static const aigtatt_port_desc bm_out[] = {
    {.name = "metrics", .type = "metrics",
     .doc = "metrics.json (fractions), results.csv (the seed's columns), verification_det.csv, "
            "verification_roc.csv, cmc.csv, open_set_det.csv, plots/ and report.html."},
    {.name = NULL},
};

static const aigtatt_node_vtable bm_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = bm_check,
    .run = bm_run,
};

static const aigtatt_component_desc bm_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_EVALUATOR,
    .name = "eval.biometric",
    .version = BM_VERSION,
    .summary = "Verification, closed-set and open-set identification metrics (pyeer-exact)",
    .doc = "Cosine similarities of L2-normalised embeddings, evaluated as ISO/IEC 19795-1 "
           "describes: EER (pyeer's definition and the interpolated crossing), FNMR at FMR 10/5/1/"
           "0.1/0%, ROC AUC as scikit-learn, d'; CMC, mAP and precision@k; open-set FPIR/FNIR with "
           "a mate found only at rank <= R and score >= T. Every rate is a fraction.",
    AIGTATT_PARAMS(bm_params),
    AIGTATT_PORTS(bm_in, bm_out),
    .vtable = &bm_vt,
};

static const aigtatt_component_desc *const bm_components[] = {&bm_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-eval-biometric", .version = BM_VERSION, .license = "MIT",
                      .description = "Biometric evaluation of embeddings",
                      .components = bm_components, .init = bm_init);
