/* prompt.file: prompts from a text file, one a line. Blank lines and lines
 * starting with '#' are skipped; every problem names file:line, because a
 * prompt list is written by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pb.h"

#define PB_MAX_LINE 4096

typedef struct pb_line {
    char *text;
    size_t line;
} pb_line;

static int pb_file_check(const aigtatt_params *p)
{
    const char *prefix = pb_host->param_string(p, "id_prefix");
    if (!pb_prefix_ok(prefix)) {
        pb_host->set_error("id_prefix '%s' may hold only letters, digits, '_' and '-' (at most 32)", prefix);
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Reads the prompts of `path` into *out (n of them). */
static int read_prompts(const char *path, size_t limit, pb_line **out, size_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pb_host->set_error("%s: cannot open the prompt file: %s", path, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    pb_line *v = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t len;
    pb_strset seen = {0};
    int rc = pb_strset_init(&seen, 256) ? AIGTATT_ERR_NOMEM : AIGTATT_OK;
    while (rc == AIGTATT_OK && (limit == 0 || n < limit) && (len = getline(&buf, &bcap, f)) >= 0) {
        lineno++;
        const char *why = NULL;
        if ((size_t)len > PB_MAX_LINE) {
            pb_host->set_error("%s:%zu: line is longer than %d bytes", path, lineno, PB_MAX_LINE);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (memchr(buf, '\0', (size_t)len)) {
            pb_host->set_error("%s:%zu: contains a NUL byte; is this a text file?", path, lineno);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (lineno == 1 && len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
            memmove(buf, buf + 3, (size_t)len - 2); /* a UTF-8 byte order mark is not part of the text */
        char *s = trim(buf);
        if (!*s || *s == '#')
            continue;
        if (pb_text_check(s, strlen(s), &why)) {
            pb_host->set_error("%s:%zu: the prompt %s", path, lineno, why);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        const char *dup = pb_strset_find(&seen, s);
        if (dup) {
            size_t first = 0;
            for (size_t k = 0; k < n; k++)
                if (v[k].text == dup)
                    first = v[k].line;
            /* Two identities with one prompt would be one tattoo twice. */
            pb_host->set_error("%s:%zu: duplicate of the prompt on line %zu", path, lineno, first);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            pb_line *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = AIGTATT_ERR_NOMEM;
                break;
            }
            v = nv;
        }
        v[n].text = strdup(s);
        v[n].line = lineno;
        if (!v[n].text || pb_strset_add(&seen, v[n].text) < 0) {
            free(v[n].text);
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        n++;
    }
    if (rc == AIGTATT_OK && ferror(f)) {
        pb_host->set_error("%s: read error after line %zu", path, lineno);
        rc = AIGTATT_ERR_IO;
    }
    if (rc == AIGTATT_OK && n == 0) {
        pb_host->set_error("%s: no prompts (blank lines and lines starting with '#' are skipped)", path);
        rc = AIGTATT_ERR_FORMAT;
    }
    if (rc == AIGTATT_ERR_NOMEM)
        pb_host->set_error("%s: out of memory", path);
    fclose(f);
    free(buf);
    pb_strset_free(&seen);
    if (rc) {
        for (size_t k = 0; k < n; k++)
            free(v[k].text);
        free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return AIGTATT_OK;
}

static int pb_file_run(aigtatt_run *run)
{
    const aigtatt_params *p = pb_host->run_params(run);
    int rc = pb_file_check(p);
    if (rc)
        return rc;
    const char *path = pb_host->param_string(p, "path");
    const char *prefix = pb_host->param_string(p, "id_prefix");
    size_t limit = (size_t)pb_host->param_int(p, "limit");
    pb_line *v = NULL;
    size_t n = 0;
    if ((rc = read_prompts(path, limit, &v, &n)))
        return rc;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (size_t i = 0; i < n && rc == AIGTATT_OK; i++) {
        char id[64];
        pb_identity(id, sizeof id, prefix, i, n);
        pb_buf meta = {0};
        char line[32];
        snprintf(line, sizeof line, "%zu", v[i].line);
        pb_buf_puts(&meta, "{\"file\":");
        pb_buf_json_str(&meta, base);
        pb_buf_puts(&meta, ",\"line\":");
        pb_buf_puts(&meta, line);
        pb_buf_puts(&meta, "}");
        aigtatt_record rec = AIGTATT_RECORD_INIT;
        rec.id = id;
        rec.identity = id;
        rec.role = "prompt";
        rec.text = v[i].text;
        rec.meta_json = meta.data;
        rc = meta.failed ? AIGTATT_ERR_NOMEM : pb_host->output_add(run, "prompts", &rec);
        pb_buf_free(&meta);
    }
    if (rc == AIGTATT_OK)
        pb_host->log(AIGTATT_LOG_INFO, "%zu prompts from %s", n, path);
    for (size_t i = 0; i < n; i++)
        free(v[i].text);
    free(v);
    return rc;
}

static const aigtatt_param_desc pb_file_params[] = {
    {.name = "path", .type = AIGTATT_PARAM_PATH, .default_value = NULL,
     .doc = "UTF-8 text file with one prompt a line; blank lines and lines starting with '#' are skipped. "
            "Relative to the experiment file."},
    {.name = "id_prefix", .type = AIGTATT_PARAM_STRING, .default_value = "T",
     .doc = "Identity names are this prefix and the prompt's number (at least 4 digits): T0001, ..."},
    {.name = "limit", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,
     .doc = "Use only the first N prompts; 0 uses all of them."},
    {.name = NULL},
};

static const aigtatt_port_desc pb_file_out[] = {
    {.name = "prompts", .type = "prompts",
     .doc = "One record per prompt: identity T0001..., role 'prompt', the text, and its file and line in meta."},
    {.name = NULL},
};

static const aigtatt_node_vtable pb_file_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = pb_file_check,
    .run = pb_file_run,
};

const aigtatt_component_desc pb_file_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_PROMPT_SOURCE,
    .name = "prompt.file",
    .version = "1.0.0",
    .summary = "Prompts from a text file, one a line",
    .doc = "Reads prompts written by hand or by an LLM. Identities follow line order (T0001 is the first "
           "prompt). A duplicate prompt, invalid UTF-8, a control character or an over-long line is an error "
           "naming file:line. The cache key covers the file's size and modification time, so editing "
           "it reruns the node.",
    AIGTATT_PARAMS(pb_file_params),
    AIGTATT_PORTS(NULL, pb_file_out),
    .vtable = &pb_file_vt,
};
