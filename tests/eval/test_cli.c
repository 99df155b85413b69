/* eval.biometric end to end through the aigtatt CLI: an experiment that
 * evaluates a CSV of embeddings, checked against pyeer on numpy's cosine
 * similarities of the same file; and a bad file failing with its reason. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refrun.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void write_csv(const char *path, int with_nan)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    uint64_t s = 77;
    fprintf(f, "path,label");
    for (int k = 0; k < 16; k++)
        fprintf(f, ",f%d", k);
    fprintf(f, "\n");
    for (int l = 0; l < 40; l++) {
        double c[16];
        for (int k = 0; k < 16; k++)
            c[k] = ref_normal(&s);
        for (int m = 0; m < 3; m++) {
            fprintf(f, "test/T%03d/%d.jpg,T%03d", l, m, l);
            for (int k = 0; k < 16; k++) {
                if (with_nan && l == 7 && m == 1 && k == 3)
                    fprintf(f, ",nan");
                else
                    fprintf(f, ",%.6f", c[k] + 0.9 * ref_normal(&s));
            }
            fprintf(f, "\n");
        }
    }
    fclose(f);
}

/* Runs the CLI on DIR/exp.yaml; returns its exit status, output in
 * DIR/log.txt. */
static int run_cli(const char *dir)
{
    const char *bin = getenv("AIGTATT_BIN");
    cr_assert(bin && *bin, "AIGTATT_BIN is not set (run through ctest)");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' run --plain '%s/exp.yaml' > '%s/log.txt' 2>&1", bin, dir, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *EXP = "name: evaltest\nseed: 7\nworkdir: ./out\nnodes:\n"
                         "  eval:\n    use: eval.biometric\n"
                         "    params: {embeddings: emb.csv, backbone: r50, margin: '0.5', "
                         "folds: 3}\n";

Test(cli, evaluates_a_csv_like_pyeer, .timeout = 120)
{
    ref_run r;
    ref_begin(&r);
    char p[400];
    snprintf(p, sizeof p, "%s/emb.csv", r.dir);
    write_csv(p, 0);
    ref_add(&r, json_pack("{s:s, s:s, s:s}", "name", "cos", "kind", "cosine_eer", "csv", p));
    snprintf(p, sizeof p, "%s/exp.yaml", r.dir);
    write_text(p, EXP);
    int st = run_cli(r.dir);
    snprintf(p, sizeof p, "cat '%s/log.txt' >&2", r.dir);
    if (st != 0 && system(p) != 0)
        cr_log_error("cannot show the log");
    cr_assert_eq(st, 0, "aigtatt run failed");
    ref_exec_or_fail(&r);
    json_t *ref = ref_json(&r, "cos");
    snprintf(p, sizeof p, "%s/out/latest/nodes/eval/metrics/metrics.json", r.dir);
    json_error_t je;
    json_t *m = json_load_file(p, 0, &je);
    cr_assert_not_null(m, "%s: %s", p, je.text);
    json_t *v = json_object_get(m, "verification");
    cr_assert_not_null(v);
    cr_expect_eq(json_integer_value(json_object_get(v, "genuine_pairs")),
                 (json_int_t)ref_num(ref, "n_gen"));
    cr_expect_eq(json_integer_value(json_object_get(v, "impostor_pairs")),
                 (json_int_t)ref_num(ref, "n_imp"));
    ref_check("EER through the CLI", json_number_value(json_object_get(v, "eer")),
              ref_num(ref, "eer"));
    json_t *pye = json_object_get(v, "pyeer");
    ref_check("FMR100 through the CLI", json_number_value(json_object_get(pye, "FMR100")),
              ref_num(ref, "fmr100"));
    ref_check("FMR10 through the CLI", json_number_value(json_object_get(pye, "FMR10")),
              ref_num(ref, "fmr10"));
    cr_expect_not_null(json_object_get(m, "closed_set"));
    cr_expect_not_null(json_object_get(m, "open_set"));
    ref_report("CLI end to end vs pyeer on numpy cosine scores");
    json_decref(m);
    json_decref(ref);

    snprintf(p, sizeof p, "%s/out/latest/nodes/eval/metrics/results.csv", r.dir);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    char line[1024];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_expect_str_eq(line, "Backbone,Emb_size,Margin,EER_Ver,FMR10,FMR20,FMR100,EER_Ident,FNIR10,"
                           "FNIR20,FNIR100,Rank-1,Rank-10,Rank-20\n");
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_expect_eq(strncmp(line, "r50,16,0.5,", 11), 0, "%s", line);
    fclose(f);

    /* The report embeds six PNG plots (base64 of the PNG signature is
     * iVBORw0KGgo) and links their SVGs, which exist. */
    snprintf(p, sizeof p, "test $(grep -o 'src=\"data:image/png;base64,iVBORw0KGgo' "
             "'%s/out/latest/nodes/eval/metrics/report.html' | wc -l) -eq 6", r.dir);
    cr_expect_eq(system(p), 0, "report.html should embed 6 PNG plots");
    static const char *plots[] = {"verification_det", "verification_roc", "verification_rates",
                                  "score_histogram", "cmc", "open_set_det"};
    for (int k = 0; k < 6; k++) {
        snprintf(p, sizeof p, "head -c 64 '%s/out/latest/nodes/eval/metrics/plots/%s.svg' | "
                 "grep -q '<svg\\|<?xml'", r.dir, plots[k]);
        cr_expect_eq(system(p), 0, "plots/%s.svg", plots[k]);
    }
    ref_end(&r);
}

Test(cli, bad_embeddings_fail_with_the_reason, .timeout = 60)
{
    ref_run r;
    ref_begin(&r);
    char p[400];
    snprintf(p, sizeof p, "%s/emb.csv", r.dir);
    write_csv(p, 1);
    snprintf(p, sizeof p, "%s/exp.yaml", r.dir);
    write_text(p, EXP);
    cr_assert_neq(run_cli(r.dir), 0);
    snprintf(p, sizeof p, "grep -q 'emb.csv:24: feature 4 is NaN' '%s/log.txt'", r.dir);
    cr_expect_eq(system(p), 0, "the log names file, line and feature");
    ref_end(&r);
}
