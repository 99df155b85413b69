/* Embedding readers: .npy written by numpy itself, safetensors written
 * from the published layout, CSV; and the errors bad input must give. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biometric/emb.h"
#include "refrun.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aigtatt-evalio.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_expect_eq(system(cmd), 0);
}

static char *put_bin(const char *name, const void *data, size_t len)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static char *put(const char *name, const char *text)
{
    return put_bin(name, text, strlen(text));
}

/* A version-1 .npy header for `dict` followed by `extra` data bytes. */
static char *put_npy(const char *name, const char *dict, size_t extra)
{
    unsigned char b[512] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    size_t hl = strlen(dict);
    b[8] = (unsigned char)hl;
    b[9] = 0;
    memcpy(b + 10, dict, hl);
    return put_bin(name, b, 10 + hl + extra);
}

/* Reads `file` expecting failure; returns the message. */
static const char *fails_csv(const char *text)
{
    static char err[BM_ERRLEN];
    bm_emb e;
    err[0] = 0;
    int rc = bm_emb_read_csv(put("bad.csv", text), &e, err);
    if (rc == 0) {
        rc = bm_emb_finish(&e, "bad.csv", err);
        bm_emb_free(&e);
    }
    cr_assert_neq(rc, 0, "accepted: %s", text);
    return err;
}

TestSuite(io, .init = setup, .fini = teardown);

Test(io, matrix_formats_agree_with_numpy, .timeout = 60)
{
    enum { N = 7, D = 5 };
    double X[N * D];
    uint64_t s = 1;
    for (int i = 0; i < N * D; i++)
        X[i] = ref_normal(&s);
    ref_run r;
    ref_begin(&r);
    char *m = ref_write(&r, "m.f64", X, sizeof X);
    ref_add(&r, json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", "m", "kind", "export_matrix",
                          "matrix", m, "rows", N, "cols", D));
    free(m);
    ref_exec_or_fail(&r);
    static const char *files[] = {"f4.npy", "f8.npy", "be.npy", "fortran.npy",
                                  "F32.safetensors", "F64.safetensors", "F16.safetensors"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[400], err[BM_ERRLEN] = "";
        snprintf(path, sizeof path, "%s/m.%s", r.dir, files[f]);
        bm_emb e;
        cr_assert_eq(bm_emb_read_matrix(path, NULL, &e, err), 0, "%s: %s", files[f], err);
        cr_assert_eq(e.n, N);
        cr_assert_eq(e.d, D);
        int half = strstr(files[f], "F16") != NULL;
        for (int i = 0; i < N * D; i++) {
            float want = (float)X[i];
            cr_expect(half ? fabsf(e.x[i] - want) <= 2e-3f * fabsf(want) + 1e-4f : e.x[i] == want,
                      "%s[%d]: %g vs %g", files[f], i, e.x[i], want);
        }
        bm_emb_free(&e);
    }
    ref_end(&r);
}

Test(io, csv_with_header_quotes_and_tabs)
{
    bm_emb a, b;
    char err[BM_ERRLEN] = "";
    cr_assert_eq(bm_emb_read_csv(put("a.csv", "path,label,f1,f2\n"
                                              "\"x,1.jpg\",T1,1,2\n"
                                              "# comment\n\n"
                                              "y.jpg,\"T\"\"2\",3e0,-4\r\n"), &a, err), 0, "%s", err);
    cr_assert_eq(bm_emb_read_csv(put("b.tsv", "x,1.jpg\tT1\t1\t2\ny.jpg\tT\"2\t3\t-4\n"), &b, err), 0,
                 "%s", err);
    cr_assert_eq(a.n, 2);
    cr_assert_eq(a.d, 2);
    cr_expect_str_eq(a.path[0], "x,1.jpg");
    cr_expect_str_eq(a.label[1], "T\"2");
    cr_expect_str_eq(b.path[0], "x,1.jpg");
    cr_expect_str_eq(b.label[1], "T\"2");
    for (int i = 0; i < 4; i++)
        cr_expect_eq(a.x[i], b.x[i]);
    cr_assert_eq(bm_emb_finish(&a, "a", err), 0, "%s", err);
    cr_expect_eq(a.n_labels, 2);
    cr_expect_eq(a.lab[0], 1, "labels are numbered in sorted order (\"T\\\"2\" < \"T1\")");
    cr_expect_str_eq(a.label_names[a.lab[0]], "T1");
    bm_emb_free(&a);
    bm_emb_free(&b);
}

/* pandas' to_csv names the feature columns 0, 1, ...: the header is
 * known by its path / label / identity column, not by a non-numeric third
 * field, and never read as an embedding. */
Test(io, csv_header_with_numeric_column_names)
{
    static const char *heads[] = {"path,label,0,1\n", "file,label,0,1\n", "path,id,0,1\n",
                                  "image\tidentity\t0\t1\n"};
    for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
        int tab = strchr(heads[h], '\t') != NULL;
        char text[256], err[BM_ERRLEN] = "";
        snprintf(text, sizeof text, tab ? "%sx.jpg\tT1\t1\t2\ny.jpg\tT2\t3\t4\n"
                                        : "%sx.jpg,T1,1,2\ny.jpg,T2,3,4\n", heads[h]);
        bm_emb e;
        cr_assert_eq(bm_emb_read_csv(put("pd.csv", text), &e, err), 0, "%s", err);
        cr_expect_eq(e.n, 2, "header %zu read as a row", h);
        cr_expect_str_eq(e.path[0], "x.jpg");
        cr_expect_eq(e.x[0], 1.0f);
        bm_emb_free(&e);
    }
    /* Without those names a numeric first row is data. */
    bm_emb e;
    char err[BM_ERRLEN] = "";
    cr_assert_eq(bm_emb_read_csv(put("nh.csv", "p,l,0,1\nx.jpg,T1,1,2\n"), &e, err), 0, "%s", err);
    cr_expect_eq(e.n, 2);
    cr_expect_str_eq(e.path[0], "p");
    bm_emb_free(&e);
}

Test(io, bad_csv_gets_clear_errors)
{
    cr_expect(strstr(fails_csv("p,l,1,2\np,l,nan,2\n"), "bad.csv:2: feature 1 is NaN"));
    cr_expect(strstr(fails_csv("p,l,1,2\np,l,1,inf\n"), "feature 2 is infinite"));
    cr_expect(strstr(fails_csv("p,l,1,2\nq,m,1,2\nr,n,1\n"), "bad.csv:3: 1 features, but line 1 "
                                                                 "has 2"));
    cr_expect(strstr(fails_csv("path,label,f1\n"), "no embedding rows"));
    cr_expect(strstr(fails_csv(""), "no embedding rows"));
    cr_expect(strstr(fails_csv("p,l,1,x2\n"), "feature 2 ('x2') is not a number"));
    cr_expect(strstr(fails_csv("p,,1,2\n"), "row 1 (p) has no identity label"));
    cr_expect(strstr(fails_csv("p,l,0,0\n"), "all zeros"));
    cr_expect(strstr(fails_csv("\"p,l,0,0\n"), "unterminated"));
    cr_expect(strstr(fails_csv("p,l\n"), "expected path,label,f1"));
}

Test(io, labels_file_must_match_rows)
{
    bm_emb e;
    char err[BM_ERRLEN] = "";
    ref_run r;
    ref_begin(&r);
    double X[6] = {1, 0, 0, 1, 1, 1};
    char *m = ref_write(&r, "m.f64", X, sizeof X);
    ref_add(&r, json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", "m", "kind", "export_matrix",
                          "matrix", m, "rows", 3, "cols", 2));
    free(m);
    ref_exec_or_fail(&r);
    char path[400];
    snprintf(path, sizeof path, "%s/m.f4.npy", r.dir);
    cr_assert_eq(bm_emb_read_matrix(path, NULL, &e, err), 0, "%s", err);
    cr_expect_neq(bm_emb_read_labels(put("l2.csv", "path,label\na/x.jpg,A\nb/y.jpg,B\n"), &e, err), 0);
    cr_expect(strstr(err, "2 label rows, but the embeddings have 3 rows"), "%s", err);
    cr_expect_neq(bm_emb_read_labels(put("l4.csv", "A\nB\nC\nD\n"), &e, err), 0);
    cr_expect(strstr(err, "4 label rows"), "%s", err);
    cr_expect_neq(bm_emb_read_labels(put("lw.csv", "a,A\nb\nc,C\n"), &e, err), 0);
    cr_expect(strstr(err, "lw.csv:2: 1 columns"), "%s", err);
    cr_assert_eq(bm_emb_read_labels(put("ok.csv", "path,label,source,role\nT1/x.jpg,A,,original\n"
                                                  "T1/y.jpg,A,T1/x.jpg,variation\nT2/z.jpg,B,,\n"),
                                    &e, err), 0, "%s", err);
    cr_expect_str_eq(e.source[1], "T1/x.jpg");
    cr_expect_str_eq(e.role[0], "original");
    cr_expect_null(e.role[2]);
    cr_assert_eq(bm_emb_labels_from_folders(&e, err), 0, "%s", err);
    cr_expect_str_eq(e.label[2], "T2");
    bm_emb_free(&e);
    ref_end(&r);
}

Test(io, broken_matrix_files_are_refused)
{
    bm_emb e;
    char err[BM_ERRLEN] = "";
    cr_expect_neq(bm_emb_read_matrix(put("x.bin", "hello world, not a matrix"), NULL, &e, err), 0);
    cr_expect(strstr(err, "neither a .npy nor a safetensors"), "%s", err);
    cr_expect_neq(bm_emb_read_matrix("/nonexistent/x.npy", NULL, &e, err), 0);
    cr_expect(strstr(err, "cannot open"), "%s", err);
    /* A .npy header announcing more data than the file holds. */
    cr_expect_neq(bm_emb_read_matrix(put_npy("t.npy", "{'descr': '<f4', 'fortran_order': False, "
                                                      "'shape': (100, 8), }\n", 64), NULL, &e, err), 0);
    cr_expect(strstr(err, "file is shorter"), "%s", err);
    cr_expect_neq(bm_emb_read_matrix(put_npy("i.npy", "{'descr': '<i4', 'fortran_order': False, "
                                                      "'shape': (1, 1), }\n", 4), NULL, &e, err), 0);
    cr_expect(strstr(err, "float32 or float64"), "%s", err);
    cr_expect_neq(bm_emb_read_matrix(put_npy("v.npy", "{'descr': '<f4', 'fortran_order': False, "
                                                      "'shape': (4,), }\n", 16), NULL, &e, err), 0);
    cr_expect(strstr(err, "must be a 2-D array"), "%s", err);
    cr_expect_neq(bm_emb_read_matrix(put_npy("z.npy", "{'descr': '<f4', 'fortran_order': False, "
                                                      "'shape': (0, 4), }\n", 0), NULL, &e, err), 0);
    cr_expect(strstr(err, "empty"), "%s", err);
    /* safetensors whose offsets overrun the data. */
    char st[200];
    const char *js = "{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    size_t hl = strlen(js);
    memset(st, 0, sizeof st);
    st[0] = (char)hl;
    memcpy(st + 8, js, hl);
    char path[400];
    snprintf(path, sizeof path, "%s", put("s.safetensors", ""));
    FILE *f = fopen(path, "wb");
    fwrite(st, 1, 8 + hl + 8, f); /* 8 of the 16 data bytes */
    fclose(f);
    cr_expect_neq(bm_emb_read_matrix(path, NULL, &e, err), 0);
    cr_expect(strstr(err, "do not cover the 8-byte data section"), "%s", err);
    /* a complete file: read; the same with a tensor named twice, or with a
     * gap in the data, refused */
    const char *bodies[] = {
        "{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
        "{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
        "\"embeddings\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}",
        "{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[8,16]}}",
    };
    const char *want[] = { NULL, "duplicate", "leave a gap" };
    for (int i = 0; i < 3; i++) {
        hl = strlen(bodies[i]);
        memset(st, 0, sizeof st);
        st[0] = (char)hl;
        memcpy(st + 8, bodies[i], hl);
        f = fopen(path, "wb");
        fwrite(st, 1, 8 + hl + 16, f);
        fclose(f);
        int rc = bm_emb_read_matrix(path, NULL, &e, err);
        if (!want[i]) {
            cr_expect_eq(rc, 0, "%s", err);
            if (rc == 0)
                bm_emb_free(&e);
            cr_expect_neq(bm_emb_read_matrix(path, "missing", &e, err), 0);
            cr_expect(strstr(err, "no tensor named 'missing'"), "%s", err);
        } else {
            cr_expect_neq(rc, 0, "case %d was read", i);
            cr_expect(strstr(err, want[i]), "case %d: %s", i, err);
        }
    }
}
