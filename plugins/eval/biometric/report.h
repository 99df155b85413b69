/* Plots (PNG and SVG) and the self-contained HTML report. */
#ifndef BM_REPORT_H
#define BM_REPORT_H

#include "results.h"

/* Writes plots/<name>.png and .svg for every result present (DET, ROC,
 * score histograms, FMR/FNMR against threshold, CMC, open-set DET) and
 * report.html, which embeds the PNGs so it travels as one file. */
int bm_write_plots_and_report(const bm_report_in *in, bm_write_fn write, void *ctx, char *err);

#endif
