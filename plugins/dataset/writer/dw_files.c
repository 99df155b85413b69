/* File helpers of the dataset writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dw.h"

int dw_mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            dw_host->set_error("cannot create folder %s: %s", buf, strerror(errno));
            return AIGTATT_ERR_IO;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        dw_host->set_error("cannot create folder %s: %s", buf, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    return AIGTATT_OK;
}

int dw_link_or_copy(const char *from, const char *to, int allow_link)
{
    /* The host's hard link (following a symlinked source, copying across
     * file systems): no space, no time; nodes never rewrite a file. */
    if (allow_link)
        return dw_host->link_file(from, to);
    FILE *f = fopen(from, "rb");
    if (!f) {
        dw_host->set_error("%s: cannot read: %s", from, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    char *data = NULL;
    size_t len = 0, cap = 0;
    int rc = AIGTATT_OK;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *d = realloc(data, cap);
            if (!d) {
                dw_host->set_error("%s: out of memory while copying", from);
                rc = AIGTATT_ERR_NOMEM;
                break;
            }
            data = d;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == AIGTATT_OK && ferror(f)) {
        dw_host->set_error("%s: read error", from);
        rc = AIGTATT_ERR_IO;
    }
    fclose(f);
    if (rc == AIGTATT_OK)
        rc = dw_host->write_file(to, data, len);
    free(data);
    return rc;
}
