#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <aigtatt/types.h>
#include "util/error.h"

int aigtatt_mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return AIGTATT_ERR_NOMEM;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                aigtatt_set_error("cannot create folder %s: %s", p, strerror(errno));
                free(p);
                return AIGTATT_ERR_IO;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    int ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    if (!ok)
        aigtatt_set_error("%s exists and is not a folder", p);
    free(p);
    return ok ? AIGTATT_OK : AIGTATT_ERR_IO;
}

int aigtatt_write_file_atomic(const char *path, const void *data, size_t size)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return AIGTATT_ERR_NOMEM;
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        aigtatt_set_error("cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return AIGTATT_ERR_IO;
    }
    fchmod(fd, 0644);
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    return AIGTATT_OK;
fail:
    aigtatt_set_error("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return AIGTATT_ERR_IO;
}

int aigtatt_read_file(const char *path, size_t max_size, char **data, size_t *size)
{
    *data = NULL;
    if (size)
        *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        aigtatt_set_error("cannot open %s: %s", path, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        aigtatt_set_error("%s is a folder, not a file", path);
        return AIGTATT_ERR_IO;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        goto oom;
    for (;;) {
        if (len == cap) {
            if (cap > max_size)
                break;
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                goto oom;
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
        if (len > max_size)
            break;
    }
    if (ferror(f)) {
        aigtatt_set_error("cannot read %s: %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return AIGTATT_ERR_IO;
    }
    fclose(f);
    if (len > max_size) {
        aigtatt_set_error("%s is larger than the limit of %zu bytes", path, max_size);
        free(buf);
        return AIGTATT_ERR_LIMIT;
    }
    buf[len] = '\0';
    *data = buf;
    if (size)
        *size = len;
    return AIGTATT_OK;
oom:
    free(buf);
    fclose(f);
    aigtatt_set_error("out of memory reading %s", path);
    return AIGTATT_ERR_NOMEM;
}

static int rmtree_at(int dirfd, const char *name, const char *shown)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? AIGTATT_OK : AIGTATT_ERR_IO;
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
            aigtatt_set_error("cannot remove %s: %s", shown, strerror(errno));
            return AIGTATT_ERR_IO;
        }
        return AIGTATT_OK;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
        aigtatt_set_error("cannot open folder %s: %s", shown, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return AIGTATT_ERR_IO;
    }
    int rc = AIGTATT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        rc = rmtree_at(fd, e->d_name, shown);
        if (rc != AIGTATT_OK)
            break;
    }
    closedir(d);
    if (rc == AIGTATT_OK && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        aigtatt_set_error("cannot remove %s: %s", shown, strerror(errno));
        rc = AIGTATT_ERR_IO;
    }
    return rc;
}

int aigtatt_rmtree(const char *path) { return rmtree_at(AT_FDCWD, path, path); }

int aigtatt_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int aigtatt_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *aigtatt_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *s = malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

/* Collapses "//", "/./" and "/../" in an absolute path in place. */
static void normalise(char *p)
{
    char *out = p;
    const char *in = p;
    while (*in) {
        while (*in == '/')
            in++;
        const char *seg = in;
        while (*in && *in != '/')
            in++;
        size_t len = (size_t)(in - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > p && *--out != '/')
                ;
            continue;
        }
        *out++ = '/';
        memmove(out, seg, len);
        out += len;
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

char *aigtatt_path_home(const char *path)
{
    const char *home = getenv("HOME");
    if (path[0] != '~' || (path[1] != '/' && path[1]) || !home || home[0] != '/')
        return strdup(path);
    return path[1] ? aigtatt_path_join(home, path + 2) : strdup(home);
}

char *aigtatt_path_absolute(const char *path, const char *base)
{
    char *s;
    if (path[0] == '/') {
        s = strdup(path);
    } else {
        char cwd[4096];
        const char *b = base;
        if (!b || b[0] != '/') {
            if (!getcwd(cwd, sizeof cwd))
                return NULL;
            if (b) {
                char *t = aigtatt_path_join(cwd, b);
                if (!t)
                    return NULL;
                s = aigtatt_path_join(t, path);
                free(t);
                goto done;
            }
            b = cwd;
        }
        s = aigtatt_path_join(b, path);
    }
done:
    if (s)
        normalise(s);
    return s;
}

char *aigtatt_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int aigtatt_link_or_copy(const char *from, const char *to)
{
    char *dir = aigtatt_path_dirname(to);
    int rc = dir ? aigtatt_mkdirs(dir) : AIGTATT_ERR_NOMEM;
    free(dir);
    if (rc)
        return rc;
    /* a symlinked source links its file, not the link itself */
    if (linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW) == 0)
        return AIGTATT_OK;
    if (errno == EEXIST) {
        aigtatt_set_error("%s already exists", to);
        return AIGTATT_ERR_IO;
    }
    /* another file system, or links not allowed: an atomic copy */
    char *data = NULL;
    size_t size = 0;
    if ((rc = aigtatt_read_file(from, (size_t)1 << 40, &data, &size)))
        return rc;
    rc = aigtatt_write_file_atomic(to, data, size);
    free(data);
    return rc;
}
