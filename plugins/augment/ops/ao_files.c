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
    aigtatt_image *img = NULL;
    int rc = ao_host->image_load(path, NULL, &img);
    if (rc)
        return rc;
    if (img->channels == 3) {
        *out = img;
        return AIGTATT_OK;
    }
    aigtatt_image *rgb = ao_host->image_new(img->width, img->height, 3);
    if (!rgb) {
        ao_host->image_free(img);
        return AIGTATT_ERR_NOMEM;
    }
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            const uint8_t *s = ao_px(img, x, y);
            uint8_t *d = ao_px(rgb, x, y);
            for (int k = 0; k < 3; k++) {
                unsigned v = img->channels == 1 ? s[0] : s[k];
                if (img->channels == 4)
                    v = (v * s[3] + 255u * (255u - s[3]) + 127u) / 255u;
                d[k] = (uint8_t)v;
            }
        }
    ao_host->image_free(img);
    *out = rgb;
    return AIGTATT_OK;
}
