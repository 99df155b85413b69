/* The end-of-run report of network use: one line per provider node that
 * ran (the "summary" its provider.json holds) and the process's HTTP
 * totals. Printed by `aigtatt run` whatever the outcome. */
#ifndef AIGTATT_CORE_RUN_REPORT_H
#define AIGTATT_CORE_RUN_REPORT_H

#include <stddef.h>

/** Logs (INFO) "summary: <text>" for each node whose status in
 *  run_dir/lock.json is "ran" and whose output ports hold a provider.json
 *  with a "summary" object, then "http: ..." totals when any request was
 *  made. run_dir may be NULL or "" (then only the totals). */
void aigtatt_net_report_run(const char *run_dir);

/** The totals line ("N requests, M retries, K failed, B received") into
 *  buf; 0 when no request was made (buf then empty). */
int aigtatt_net_totals_text(char *buf, size_t size);

#endif
