/* See run_report.h. Reads what the provider plugins wrote (provider.json
 * beside an output port's manifest) rather than asking them: a node that
 * ran is over, and its output folder is the record of what it did. */
#include "net/run_report.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "util/error.h"

static void human_bytes(uint64_t b, char *buf, size_t size)
{
    if (b < 1024)
        snprintf(buf, size, "%llu B", (unsigned long long)b);
    else if (b < (1u << 20))
        snprintf(buf, size, "%.1f KiB", (double)b / 1024.0);
    else if (b < (1u << 30))
        snprintf(buf, size, "%.1f MiB", (double)b / 1048576.0);
    else
        snprintf(buf, size, "%.2f GiB", (double)b / 1073741824.0);
}

int aigtatt_net_totals_text(char *buf, size_t size)
{
    aigtatt_http_stats st;
    aigtatt_http_stats_get(&st);
    if (size)
        buf[0] = '\0';
    if (!st.requests)
        return 0;
    char hb[32];
    human_bytes(st.bytes_in, hb, sizeof hb);
    snprintf(buf, size, "%llu request%s, %llu retr%s, %llu failed, %s received", (unsigned long long)st.requests,
             st.requests == 1 ? "" : "s", (unsigned long long)st.retries, st.retries == 1 ? "y" : "ies",
             (unsigned long long)st.failures, hb);
    return 1;
}

/* The summaries under one node's result folder (one per output port). */
static void report_node(const char *run_dir, const char *node)
{
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s/nodes/%s", run_dir, node) >= sizeof dir)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **g = realloc(names, cap * sizeof *names);
            if (!g)
                break;
            names = g;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s/provider.json", dir, names[i]);
        json_t *j = json_load_file(path, 0, NULL);
        const char *text = json_string_value(json_object_get(json_object_get(j, "summary"), "text"));
        if (text && *text)
            aigtatt_log(AIGTATT_LOG_INFO, "summary of node %s: %s", node, text);
        json_decref(j);
        free(names[i]);
    }
    free(names);
}

void aigtatt_net_report_run(const char *run_dir)
{
    if (run_dir && *run_dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/lock.json", run_dir);
        json_t *lock = json_load_file(path, 0, NULL);
        json_t *nodes = json_object_get(lock, "nodes");
        const char *id;
        json_t *o;
        json_object_foreach(nodes, id, o)
        {
            const char *st = json_string_value(json_object_get(o, "status"));
            if (st && !strcmp(st, "ran"))
                report_node(run_dir, id);
        }
        json_decref(lock);
    }
    char totals[256];
    if (aigtatt_net_totals_text(totals, sizeof totals))
        aigtatt_log(AIGTATT_LOG_INFO, "http: %s in this run", totals);
}
