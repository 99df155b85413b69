/* File helpers of the pipeline node. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ao_pipe.h"

int ao_safe_name(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 200)
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

int ao_mkdir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return AIGTATT_OK;
    ao_host->set_error("cannot create folder %s: %s", path, strerror(errno));
    return AIGTATT_ERR_IO;
}

void ao_ext(const char *path, char *buf, size_t size)
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

int ao_load_rgb(const char *path, aigtatt_image **out)
{
    /* Transparent means "no ink", which reads as white paper. */
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3, .over_white = 1};
    return ao_host->image_load(path, &o, out);
}
