/* `aigtatt eval FILE`: a standalone evaluation of an embeddings file
 * through the normal runner (one eval.biometric node written into the
 * workdir), checked through the real CLI: results equal pyeer's on the
 * same file, .npy with a labels file given relative to the working
 * folder, the cache and --force, and the errors of bad command lines and
 * bad files with their exit codes. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evhelp.h"
#include "refrun.h"

/* metrics.json named on the "metrics: " line of the command's output. */
static json_t *metrics_of(const char *out)
{
    char *path = ev_line_after(out, "metrics: ");
    cr_assert_not_null(path, "no 'metrics: ' line in:\n%s", out);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    cr_assert_not_null(m, "%s: %s", path, je.text);
    free(path);
    return m;
}

Test(evalcmd, evaluates_a_csv_like_pyeer, .timeout = 180)
{
    ref_run r;
    ref_begin(&r);
    ev_make_set(r.dir, 30, 0);
    char csv[400], *out;
    snprintf(csv, sizeof csv, "%s/emb.csv", r.dir);
    ref_add(&r, json_pack("{s:s, s:s, s:s}", "name", "cos", "kind", "cosine_eer", "csv", csv));
    int st = ev_sh(&out, "cd '%s' && '%s' eval emb.csv --plain --workdir out --set folds=3 "
                   "--set eval.backbone=r50", r.dir, ev_bin());
    cr_assert_eq(st, 0, "aigtatt eval failed (%d):\n%s", st, out);
    /* Both paths are printed, under the workdir's run folder. */
    char *rep = ev_line_after(out, "report:  ");
    cr_assert_not_null(rep, "%s", out);
    char want[600];
    snprintf(want, sizeof want, "%s/out/runs/", r.dir);
    cr_expect_eq(strncmp(rep, want, strlen(want)), 0, "%s", rep);
    char *html = ev_read(rep);
    cr_expect_not_null(html, "%s", rep);
    free(html);
    free(rep);
    /* The experiment it ran, for `aigtatt run`. */
    snprintf(want, sizeof want, "%s/out/eval.yaml", r.dir);
    char *yaml = ev_read(want);
    cr_assert_not_null(yaml, "%s", want);
    cr_expect(strstr(yaml, "use: eval.biometric") && strstr(yaml, csv), "%s", yaml);
    free(yaml);

    ref_exec_or_fail(&r);
    json_t *ref = ref_json(&r, "cos"), *m = metrics_of(out);
    json_t *v = json_object_get(m, "verification");
    cr_assert_not_null(v);
    cr_expect_eq(json_integer_value(json_object_get(v, "impostor_pairs")),
                 (json_int_t)ref_num(ref, "n_imp"));
    ref_check("EER through aigtatt eval", json_number_value(json_object_get(v, "eer")),
              ref_num(ref, "eer"));
    json_t *pye = json_object_get(v, "pyeer");
    ref_check("FMR100 through aigtatt eval", json_number_value(json_object_get(pye, "FMR100")),
              ref_num(ref, "fmr100"));
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(m, "closed_set"), "folds")), 3);
    ref_report("aigtatt eval vs pyeer on numpy cosine scores");
    json_decref(m);
    json_decref(ref);
    free(out);

    /* Unchanged: from the cache; --force evaluates again. */
    st = ev_sh(&out, "cd '%s' && '%s' eval emb.csv --plain --workdir out --set folds=3 "
               "--set eval.backbone=r50", r.dir, ev_bin());
    cr_expect_eq(st, 0, "%s", out);
    cr_expect(strstr(out, "taken from the cache") != NULL, "%s", out);
    free(out);
    st = ev_sh(&out, "cd '%s' && '%s' eval emb.csv --plain --workdir out --set folds=3 "
               "--set eval.backbone=r50 --force", r.dir, ev_bin());
    cr_expect_eq(st, 0, "%s", out);
    cr_expect(strstr(out, "finished: evaluated") != NULL, "%s", out);
    free(out);
    ref_end(&r);
}

/* A float32 .npy of n x d values. */
static void write_npy(const char *path, const float *x, size_t n, size_t d)
{
    char dict[128];
    int hl = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
                      n, d);
    /* Pad the header to a multiple of 64 with spaces and a newline. */
    int total = 10 + hl + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    magic[8] = (unsigned char)((hl + pad + 1) & 255);
    magic[9] = (unsigned char)((hl + pad + 1) >> 8);
    fwrite(magic, 1, 10, f);
    fwrite(dict, 1, (size_t)hl, f);
    for (int i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(x, sizeof *x, n * d, f);
    fclose(f);
}

Test(evalcmd, npy_with_a_labels_file_relative_to_the_working_folder, .timeout = 120)
{
    ref_run r;
    ref_begin(&r);
    enum { IDS = 25, PER = 3, D = 8 };
    float x[IDS * PER * D];
    uint64_t s = 9;
    char *labels = malloc(IDS * PER * 64 + 32);
    size_t at = (size_t)sprintf(labels, "path,label\n");
    for (int l = 0; l < IDS; l++) {
        float c[D];
        for (int k = 0; k < D; k++)
            c[k] = (float)ref_normal(&s);
        for (int m = 0; m < PER; m++) {
            for (int k = 0; k < D; k++)
                x[(l * PER + m) * D + k] = c[k] + 0.5f * (float)ref_normal(&s);
            at += (size_t)sprintf(labels + at, "test/ID%02d/%d.jpg,ID%02d\n", l, m, l);
        }
    }
    char p[400];
    snprintf(p, sizeof p, "%s/sub", r.dir);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/sub/emb.npy", r.dir);
    write_npy(p, x, IDS * PER, D);
    ev_write(r.dir, "sub/labels.csv", labels);
    free(labels);
    char *out;
    /* labels is given relative to the working folder (sub/), not to the
     * workdir where the experiment file is written. */
    int st = ev_sh(&out, "cd '%s/sub' && '%s' eval emb.npy --plain --workdir ../w "
                   "--set labels=labels.csv --set closed_set=off --set open_set=false "
                   "--set report=false", r.dir, ev_bin());
    cr_assert_eq(st, 0, "%s", out);
    cr_expect_null(strstr(out, "report: "), "no report was asked for:\n%s", out);
    json_t *m = metrics_of(out);
    json_t *in = json_object_get(m, "input");
    cr_expect_eq(json_integer_value(json_object_get(in, "rows")), IDS * PER);
    cr_expect_eq(json_integer_value(json_object_get(in, "identities")), IDS);
    cr_expect_not_null(json_object_get(m, "verification"));
    cr_expect_null(json_object_get(m, "closed_set"));
    json_decref(m);
    free(out);

    /* Without labels a matrix cannot be evaluated: the node says why. */
    st = ev_sh(&out, "cd '%s/sub' && '%s' eval emb.npy --plain --workdir ../w2", r.dir, ev_bin());
    cr_expect_eq(st, 1, "%s", out);
    cr_expect(strstr(out, "needs a labels file") != NULL, "%s", out);
    free(out);
    ref_end(&r);
}

Test(evalcmd, bad_command_lines_and_files_fail_with_the_reason, .timeout = 120)
{
    ref_run r;
    ref_begin(&r);
    ev_make_set(r.dir, 10, 0);
    const char *bin = ev_bin();
    char *out;
    /* Exit 2: the command line. */
    cr_expect_eq(ev_sh(&out, "'%s' eval", bin), 2);
    cr_expect(strstr(out, "missing the embeddings FILE") != NULL, "%s", out);
    free(out);
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/emb.csv' --frobnicate", bin, r.dir), 2);
    cr_expect(strstr(out, "unknown option '--frobnicate'") != NULL, "%s", out);
    free(out);
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/emb.csv' --set folds", bin, r.dir), 2);
    free(out);
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/emb.csv' --set other.folds=2", bin, r.dir), 2);
    cr_expect(strstr(out, "the only node is 'eval'") != NULL, "%s", out);
    free(out);
    /* Exit 3: a parameter that does not exist or a bad value, checked like
     * a file's. */
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/emb.csv' --workdir '%s/w' --set fold=2", bin, r.dir,
                       r.dir), 3);
    cr_expect(strstr(out, "did you mean 'folds'") != NULL, "%s", out);
    free(out);
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/emb.csv' --workdir '%s/w' --set folds=0", bin, r.dir,
                       r.dir), 3);
    free(out);
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/nothing.csv' --workdir '%s/w'", bin, r.dir, r.dir), 3);
    cr_expect(strstr(out, "no such embeddings file") != NULL, "%s", out);
    free(out);
    /* Exit 1: the file is read and refused by the node. */
    ev_write(r.dir, "bad.csv", "path,label,f1,f2\na.jpg,A,1,2\nb.jpg,A,1\n");
    cr_expect_eq(ev_sh(&out, "'%s' eval '%s/bad.csv' --workdir '%s/w'", bin, r.dir, r.dir), 1);
    cr_expect(strstr(out, "bad.csv:3") != NULL, "the error names file and line:\n%s", out);
    free(out);
    /* Help. */
    cr_expect_eq(ev_sh(&out, "'%s' eval --help", bin), 0);
    cr_expect(strstr(out, "usage: aigtatt eval FILE") != NULL, "%s", out);
    free(out);
    ref_end(&r);
}
