/* Closed-set identification (ranks, CMC) and retrieval precision (AP,
 * precision@k) from one probe's row of scores at a time, so a caller can
 * stream blocks of a probe x gallery product and never hold all of it.
 * Ranks need no sort: they are counts of non-mates above the mate. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int excluded(size_t g, const size_t *excl, size_t n_excl)
{
    for (size_t e = 0; e < n_excl; e++)
        if (excl[e] == g)
            return 1;
    return 0;
}

/* Does candidate (score s, tie position pos) rank above a mate at
 * (m, mpos) under `ties`? */
static int above(double s, size_t pos, double m, size_t mpos, bm_ties ties)
{
    if (s > m)
        return 1;
    if (s < m)
        return 0;
    switch (ties) {
    case BM_TIES_OPTIMISTIC:
        return 0;
    case BM_TIES_GALLERY_ORDER:
        return pos < mpos;
    case BM_TIES_PESSIMISTIC:
    default:
        return 1;
    }
}

static int search_images(const double *row, const int32_t *glabel, size_t n,
                         int32_t plabel, const size_t *excl, size_t n_excl,
                         bm_ties ties, bm_search *out)
{
    double m = -INFINITY, nm = -INFINITY;
    size_t mi = 0;
    int has_mate = 0;
    for (size_t g = 0; g < n; g++) {
        if (n_excl && excluded(g, excl, n_excl))
            continue;
        if (glabel[g] == plabel) {
            /* The first of equal mates is the one a stable sort puts first. */
            if (!has_mate || row[g] > m) {
                m = row[g];
                mi = g;
                has_mate = 1;
            }
        } else if (row[g] > nm) {
            nm = row[g];
        }
    }
    out->mate_score = m;
    out->nonmate_score = nm;
    out->mate_index = mi;
    out->rank = 0;
    if (!has_mate)
        return BM_OK;
    size_t r = 1;
    for (size_t g = 0; g < n; g++) {
        if (glabel[g] == plabel || (n_excl && excluded(g, excl, n_excl)))
            continue;
        r += (size_t)above(row[g], g, m, mi, ties);
    }
    out->rank = r;
    return BM_OK;
}

static int search_identities(const double *row, const int32_t *glabel, size_t n,
                             int32_t plabel, const size_t *excl, size_t n_excl,
                             bm_ties ties, size_t n_labels, double *scratch,
                             bm_search *out)
{
    /* best[l]: identity l's best score; first[l]: lowest gallery index
     * holding it (kept as a double; exact below 2^53). */
    double *best = scratch, *first = scratch + n_labels;
    for (size_t l = 0; l < n_labels; l++) {
        best[l] = -INFINITY;
        first[l] = -1;
    }
    for (size_t g = 0; g < n; g++) {
        if (n_excl && excluded(g, excl, n_excl))
            continue;
        size_t l = (size_t)glabel[g];
        if (first[l] < 0 || row[g] > best[l]) {
            best[l] = row[g];
            first[l] = (double)g;
        }
    }
    int has_mate = plabel >= 0 && (size_t)plabel < n_labels && first[plabel] >= 0;
    double m = has_mate ? best[plabel] : -INFINITY;
    size_t mi = has_mate ? (size_t)first[plabel] : 0;
    double nm = -INFINITY;
    size_t r = 1;
    for (size_t l = 0; l < n_labels; l++) {
        if ((int64_t)l == (int64_t)plabel || first[l] < 0)
            continue;
        if (best[l] > nm)
            nm = best[l];
        if (has_mate)
            r += (size_t)above(best[l], (size_t)first[l], m, mi, ties);
    }
    out->mate_score = m;
    out->nonmate_score = nm;
    out->mate_index = mi;
    out->rank = has_mate ? r : 0;
    return BM_OK;
}

int bm_search_row(const double *row, const int32_t *glabel, size_t n_gallery,
                  int32_t plabel, const size_t *excl, size_t n_excl,
                  bm_ties ties, int by_identity, size_t n_labels, double *scratch,
                  bm_search *out)
{
    if (!row || !glabel || !out || (by_identity && !n_labels))
        return BM_ERR_INVALID;
    if (!by_identity)
        return search_images(row, glabel, n_gallery, plabel, excl, n_excl, ties, out);
    for (size_t g = 0; g < n_gallery; g++)
        if (glabel[g] < 0 || (size_t)glabel[g] >= n_labels)
            return BM_ERR_INVALID;
    double *s = scratch ? scratch : malloc(2 * n_labels * sizeof *s);
    if (!s)
        return BM_ERR_NOMEM;
    int rc = search_identities(row, glabel, n_gallery, plabel, excl, n_excl, ties,
                               n_labels, s, out);
    if (!scratch)
        free(s);
    return rc;
}

void bm_cmc(const bm_search *s, size_t n, size_t max_rank, double *cmc, size_t *n_no_mate)
{
    /* Histogram of ranks, then one division per rank so that cmc[r] is the
     * exact fraction rather than a running sum of rounded steps. */
    uint64_t *h = calloc(max_rank + 1, sizeof *h);
    size_t none = 0;
    if (!h) {
        /* Fallback without a histogram: O(n * max_rank). */
        for (size_t r = 0; r < max_rank; r++) {
            uint64_t c = 0;
            for (size_t i = 0; i < n; i++)
                c += s[i].rank >= 1 && s[i].rank <= r + 1;
            cmc[r] = n ? (double)c / (double)n : NAN;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            if (s[i].rank >= 1 && s[i].rank <= max_rank)
                h[s[i].rank]++;
        uint64_t c = 0;
        for (size_t r = 0; r < max_rank; r++) {
            c += h[r + 1];
            cmc[r] = n ? (double)c / (double)n : NAN;
        }
        free(h);
    }
    for (size_t i = 0; i < n; i++)
        none += s[i].rank == 0;
    if (n_no_mate)
        *n_no_mate = none;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

double bm_average_precision(const double *row, const int32_t *glabel, size_t n_gallery,
                            int32_t plabel, const size_t *excl, size_t n_excl,
                            double *scratch)
{
    double *v = scratch ? scratch : malloc((n_gallery ? n_gallery : 1) * sizeof *v);
    if (!v)
        return NAN;
    size_t nm = 0;
    for (size_t g = 0; g < n_gallery; g++)
        if (glabel[g] == plabel && !(n_excl && excluded(g, excl, n_excl)))
            v[nm++] = row[g];
    double ap = NAN;
    uint64_t *ge = NULL, *tp = NULL;
    if (nm == 0)
        goto done;
    qsort(v, nm, sizeof *v, cmp_desc);
    /* Distinct mate scores, descending, with tp[d] = mates >= v[d]. */
    size_t nd = 0;
    tp = malloc(nm * sizeof *tp);
    ge = calloc(nm, sizeof *ge);
    if (!tp || !ge)
        goto done;
    for (size_t i = 0; i < nm; i++) {
        if (nd == 0 || v[i] != v[nd - 1])
            v[nd++] = v[i];
        tp[nd - 1] = i + 1;
    }
    /* ge[d] = candidates scoring >= v[d]: count each candidate under the
     * largest mate value it reaches (it reaches every smaller one too),
     * then running sums over d. */
    for (size_t g = 0; g < n_gallery; g++) {
        if (n_excl && excluded(g, excl, n_excl))
            continue;
        double s = row[g];
        if (s < v[nd - 1])
            continue;
        /* Binary search: first d with v[d] <= s (v descending). */
        size_t lo = 0, hi = nd - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (v[mid] <= s)
                hi = mid;
            else
                lo = mid + 1;
        }
        ge[lo]++;
    }
    for (size_t d = 1; d < nd; d++)
        ge[d] += ge[d - 1];
    /* sklearn: sum of (recall step) x precision, recall = tp / M. */
    ap = 0.0;
    double M = (double)nm, prev = 0.0;
    for (size_t d = 0; d < nd; d++) {
        double rec = (double)tp[d] / M;
        ap += (rec - prev) * ((double)tp[d] / (double)ge[d]);
        prev = rec;
    }
done:
    free(tp);
    free(ge);
    if (!scratch)
        free(v);
    return ap;
}

/* The k-th smallest (0-based) of a[0..n) by quickselect with a three-way
 * partition, which stays linear on the many ties of quantised scores. */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n; /* [lo, hi) holds the answer */
    while (hi - lo > 1) {
        double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        double p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (a[i] < p) {
                double t = a[lt]; a[lt] = a[i]; a[i] = t;
                lt++; i++;
            } else if (a[i] > p) {
                gt--;
                double t = a[gt]; a[gt] = a[i]; a[i] = t;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return p;
    }
    return a[lo];
}

double bm_precision_at_k(const double *row, const int32_t *glabel, size_t n_gallery,
                         int32_t plabel, const size_t *excl, size_t n_excl,
                         size_t k, bm_ties ties, double *scratch)
{
    double *v = scratch ? scratch : malloc((n_gallery ? n_gallery : 1) * sizeof *v);
    if (!v)
        return NAN;
    size_t n = 0;
    for (size_t g = 0; g < n_gallery; g++)
        if (!(n_excl && excluded(g, excl, n_excl)))
            v[n++] = row[g];
    double res = NAN;
    if (k == 0 || n == 0)
        goto done;
    if (k > n)
        k = n;
    double sk = select_kth(v, n, n - k); /* the k-th largest */
    size_t above_all = 0, above_mates = 0, tie_mates = 0, tie_non = 0;
    for (size_t g = 0; g < n_gallery; g++) {
        if (n_excl && excluded(g, excl, n_excl))
            continue;
        int mate = glabel[g] == plabel;
        if (row[g] > sk) {
            above_all++;
            above_mates += (size_t)mate;
        } else if (row[g] == sk) {
            if (mate)
                tie_mates++;
            else
                tie_non++;
        }
    }
    size_t slots = k - above_all, taken = 0;
    switch (ties) {
    case BM_TIES_OPTIMISTIC:
        taken = slots < tie_mates ? slots : tie_mates;
        break;
    case BM_TIES_GALLERY_ORDER:
        for (size_t g = 0, used = 0; g < n_gallery && used < slots; g++) {
            if (row[g] != sk || (n_excl && excluded(g, excl, n_excl)))
                continue;
            used++;
            taken += glabel[g] == plabel;
        }
        break;
    case BM_TIES_PESSIMISTIC:
    default:
        taken = slots > tie_non ? slots - tie_non : 0;
        break;
    }
    res = (double)(above_mates + taken) / (double)k;
done:
    if (!scratch)
        free(v);
    return res;
}
