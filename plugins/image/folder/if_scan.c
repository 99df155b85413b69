/* Finding the images of a folder, in a stable (name) order so that the
 * same folder always gives the same identities and records. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "if.h"

static int is_image_name(const char *name)
{
    char ext[16];
    if_ext(name, ext, sizeof ext);
    return !strcmp(ext, ".png") || !strcmp(ext, ".jpg") || !strcmp(ext, ".jpeg");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the visible entries of `dir` that are regular files
 * (want_dirs 0) or folders (want_dirs 1). */
static int list_dir(const char *dir, int want_dirs, char ***out, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (!d) {
        if_host->set_error("%s: cannot open folder: %s", dir, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = AIGTATT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (stat(full, &st) != 0)
            continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : (!S_ISREG(st.st_mode) || !is_image_name(e->d_name)))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = AIGTATT_ERR_NOMEM;
                break;
            }
            v = nv;
        }
        if (!(v[n] = strdup(e->d_name))) {
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        if_host->set_error("out of memory listing %s", dir);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *n_out = n;
    return AIGTATT_OK;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int add(if_list *l, const char *rel, const char *identity)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        if_file *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return AIGTATT_ERR_NOMEM;
        l->v = nv;
        l->cap = cap;
    }
    if_file *f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    f->rel = strdup(rel);
    f->identity = strdup(identity);
    if (!f->rel || !f->identity) {
        free(f->rel);
        free(f->identity);
        return AIGTATT_ERR_NOMEM;
    }
    l->n++;
    return AIGTATT_OK;
}

static int cmp_file(const void *a, const void *b)
{
    const if_file *x = a, *y = b;
    int c = strcmp(x->identity, y->identity);
    return c ? c : strcmp(x->rel, y->rel);
}

int if_scan(const char *root, int layout, if_list *out, int *layout_used)
{
    memset(out, 0, sizeof *out);
    char **files = NULL, **dirs = NULL;
    size_t nf = 0, nd = 0;
    int rc = list_dir(root, 0, &files, &nf);
    if (!rc)
        rc = list_dir(root, 1, &dirs, &nd);
    if (rc)
        goto out;
    if (layout == IF_AUTO)
        layout = nd > 0 && nf == 0 ? IF_PER_IDENTITY : nf > 0 && nd == 0 ? IF_FLAT : IF_AUTO;
    if (layout == IF_AUTO) {
        /* Both images and folders at the top: ask rather than guess. */
        if (nf == 0 && nd == 0)
            layout = IF_FLAT;
        else {
            if_host->set_error("%s holds both image files and folders; set layout: flat (one identity per file) "
                               "or layout: per_identity (one identity per folder)", root);
            rc = AIGTATT_ERR_INVALID;
            goto out;
        }
    }
    *layout_used = layout;
    if (layout == IF_FLAT) {
        if (nd)
            if_host->log(AIGTATT_LOG_WARN, "%s: ignoring %zu sub-folders (layout: flat)", root, nd);
        for (size_t i = 0; i < nf && !rc; i++) {
            char stem[1024];
            snprintf(stem, sizeof stem, "%s", files[i]);
            char *dot = strrchr(stem, '.');
            if (dot && dot != stem)
                *dot = '\0';
            rc = add(out, files[i], stem);
        }
    } else {
        if (nf)
            if_host->log(AIGTATT_LOG_WARN, "%s: ignoring %zu image files outside identity folders "
                         "(layout: per_identity)", root, nf);
        for (size_t i = 0; i < nd && !rc; i++) {
            char sub[4096], **inner = NULL;
            size_t ni = 0;
            snprintf(sub, sizeof sub, "%s/%s", root, dirs[i]);
            if ((rc = list_dir(sub, 0, &inner, &ni)))
                break;
            for (size_t k = 0; k < ni && !rc; k++) {
                char rel[4096];
                snprintf(rel, sizeof rel, "%s/%s", dirs[i], inner[k]);
                rc = add(out, rel, dirs[i]);
            }
            free_names(inner, ni);
        }
    }
    if (rc == AIGTATT_ERR_NOMEM)
        if_host->set_error("out of memory scanning %s", root);
    if (!rc && out->n) {
        qsort(out->v, out->n, sizeof *out->v, cmp_file);
        for (size_t i = 0, start = 0; i <= out->n; i++) {
            if (i < out->n && !strcmp(out->v[i].identity, out->v[start].identity))
                continue;
            for (size_t k = start; k < i; k++) {
                out->v[k].ordinal = k - start;
                out->v[k].total = i - start;
            }
            start = i;
        }
    }
out:
    free_names(files, nf);
    free_names(dirs, nd);
    if (rc)
        if_list_free(out);
    return rc;
}

void if_list_free(if_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].rel);
        free(l->v[i].identity);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
