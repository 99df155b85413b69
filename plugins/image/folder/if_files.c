/* File helpers of image.folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "if.h"

int if_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return AIGTATT_OK;
    if_host->set_error("cannot create folder %s: %s", path, strerror(errno));
    return AIGTATT_ERR_IO;
}

int if_link_or_copy(const char *from, const char *to, int allow_link)
{
    /* The host's hard link (following a symlinked source, copying across
     * file systems): no space, no time; nodes never rewrite a file. */
    if (allow_link)
        return if_host->link_file(from, to);
    FILE *f = fopen(from, "rb");
    if (!f) {
        if_host->set_error("%s: cannot read: %s", from, strerror(errno));
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
                if_host->set_error("%s: out of memory while copying", from);
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
        if_host->set_error("%s: read error", from);
        rc = AIGTATT_ERR_IO;
    }
    fclose(f);
    if (rc == AIGTATT_OK)
        rc = if_host->write_file(to, data, len);
    free(data);
    return rc;
}

void if_ext(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    buf[0] = '\0';
    if (!dot || (slash && dot < slash) || strlen(dot) >= size)
        return;
    size_t i = 0;
    for (; dot[i]; i++)
        buf[i] = (char)(dot[i] >= 'A' && dot[i] <= 'Z' ? dot[i] - 'A' + 'a' : dot[i]);
    buf[i] = '\0';
}

int if_safe_name(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 200)
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}
