/* The secret registry and secret_get: API keys from the environment or a
 * private .env file, each registered for redaction the moment it is read. */
#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP */
#include "net/secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/secret_impl.h"
#include "util/error.h"

/* A .env holds a handful of keys; anything bigger is not what we think. */
#define ENV_FILE_MAX (64 * 1024)
#define NAME_MAX_LEN 128

/* Recursive: every error text and log line is checked against the list
 * (core/util/error.c), including those set while this lock is held. */
pthread_mutex_t aigtatt_secret_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
aigtatt_secret_entry *aigtatt_secret_list;
size_t aigtatt_secret_count;
static size_t secret_cap;
static char *env_file_path;
static char *env_dir_path; /* a second .env folder: the experiment file's */

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN || isdigit((unsigned char)name[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return 0;
    return 1;
}

/* Caller holds the lock. Keeps the list sorted longest value first, so that
 * redaction replaces "sk-abc-123" before a registered "sk-abc" could leave
 * "***-123" behind. */
static int register_locked(const char *name, const char *value, const char **stored)
{
    size_t len = strlen(value);
    for (size_t i = 0; i < aigtatt_secret_count; i++) {
        aigtatt_secret_entry *e = &aigtatt_secret_list[i];
        if (e->len == len && memcmp(e->value, value, len) == 0 && (!name || (e->name && !strcmp(e->name, name)))) {
            if (stored)
                *stored = e->value;
            return AIGTATT_OK;
        }
    }
    if (aigtatt_secret_count == secret_cap) {
        size_t cap = secret_cap ? secret_cap * 2 : 8;
        aigtatt_secret_entry *p = realloc(aigtatt_secret_list, cap * sizeof *p);
        if (!p)
            return AIGTATT_ERR_NOMEM;
        aigtatt_secret_list = p;
        secret_cap = cap;
    }
    aigtatt_secret_entry e = {0};
    e.value = strdup(value);
    e.name = name ? strdup(name) : NULL;
    e.len = len;
    if (!e.value || (name && !e.name)) {
        free(e.value);
        free(e.name);
        return AIGTATT_ERR_NOMEM;
    }
    size_t at = 0;
    while (at < aigtatt_secret_count && aigtatt_secret_list[at].len >= len)
        at++;
    memmove(&aigtatt_secret_list[at + 1], &aigtatt_secret_list[at],
            (aigtatt_secret_count - at) * sizeof e);
    aigtatt_secret_list[at] = e;
    aigtatt_secret_count++;
    if (stored)
        *stored = e.value;
    return AIGTATT_OK;
}

int aigtatt_secret_register(const char *value)
{
    if (!value || !value[0])
        return AIGTATT_OK;
    pthread_mutex_lock(&aigtatt_secret_lock);
    int rc = register_locked(NULL, value, NULL);
    pthread_mutex_unlock(&aigtatt_secret_lock);
    return rc;
}

int aigtatt_secret_in(const char *text)
{
    if (!text)
        return 0;
    int found = 0;
    pthread_mutex_lock(&aigtatt_secret_lock);
    for (size_t i = 0; i < aigtatt_secret_count && !found; i++)
        found = strstr(text, aigtatt_secret_list[i].value) != NULL;
    pthread_mutex_unlock(&aigtatt_secret_lock);
    return found;
}

int aigtatt_secret_set_env_file(const char *path)
{
    char *copy = NULL;
    if (path && !(copy = strdup(path)))
        return AIGTATT_ERR_NOMEM;
    pthread_mutex_lock(&aigtatt_secret_lock);
    free(env_file_path);
    env_file_path = copy;
    pthread_mutex_unlock(&aigtatt_secret_lock);
    return AIGTATT_OK;
}

int aigtatt_secret_set_env_dir(const char *dir)
{
    char *copy = NULL;
    if (dir && dir[0]) {
        size_t n = strlen(dir) + sizeof "/.env";
        copy = malloc(n);
        if (!copy)
            return AIGTATT_ERR_NOMEM;
        snprintf(copy, n, "%s%s.env", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
    }
    pthread_mutex_lock(&aigtatt_secret_lock);
    free(env_dir_path);
    env_dir_path = copy;
    pthread_mutex_unlock(&aigtatt_secret_lock);
    return AIGTATT_OK;
}

/* Non-zero when a and b name the same file (both exist). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void aigtatt_secrets_clear(void)
{
    pthread_mutex_lock(&aigtatt_secret_lock);
    for (size_t i = 0; i < aigtatt_secret_count; i++) {
        explicit_bzero(aigtatt_secret_list[i].value, aigtatt_secret_list[i].len);
        free(aigtatt_secret_list[i].value);
        free(aigtatt_secret_list[i].name);
    }
    free(aigtatt_secret_list);
    aigtatt_secret_list = NULL;
    aigtatt_secret_count = secret_cap = 0;
    free(env_file_path);
    env_file_path = NULL;
    free(env_dir_path);
    env_dir_path = NULL;
    pthread_mutex_unlock(&aigtatt_secret_lock);
}

/* Reads the whole file into a buffer the caller wipes; refuses anything
 * but a private regular file. */
static int read_private(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return AIGTATT_ERR_INVALID;
        aigtatt_set_error("cannot open %s: %s", path, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    int rc = AIGTATT_ERR_IO;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        aigtatt_set_error("cannot stat %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        aigtatt_set_error("refusing %s: not a regular file", path);
        goto fail;
    }
    /* Like ssh with private keys: a key file others can read is a key
     * others have, and one others can write feeds us their key. */
    if (st.st_mode & 077) {
        aigtatt_set_error("refusing %s: it is accessible by group or others (mode %04o); "
                          "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    if (st.st_size > ENV_FILE_MAX) {
        aigtatt_set_error("refusing %s: larger than %d bytes", path, ENV_FILE_MAX);
        goto fail;
    }
    buf = malloc(ENV_FILE_MAX + 1);
    if (!buf) {
        rc = AIGTATT_ERR_NOMEM;
        goto fail;
    }
    size_t n = 0;
    while (n < ENV_FILE_MAX) {
        ssize_t r = read(fd, buf + n, ENV_FILE_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            aigtatt_set_error("cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(fd);
    *out = buf;
    *len = n;
    return AIGTATT_OK;
fail:
    if (buf) {
        explicit_bzero(buf, ENV_FILE_MAX + 1);
        free(buf);
    }
    close(fd);
    return rc;
}

/* Parses the value starting at p (line ends at `end`) into dst, which has
 * room for the whole line. Returns 0, or -1 for an unterminated quote. */
static int parse_value(const char *p, const char *end, char *dst)
{
    size_t o = 0;
    if (p < end && (*p == '"' || *p == '\'')) {
        char q = *p++;
        for (; p < end && *p != q; p++) {
            if (q == '"' && *p == '\\' && p + 1 < end) {
                p++;
                dst[o++] = *p == 'n' ? '\n' : *p;
            } else {
                dst[o++] = *p;
            }
        }
        if (p >= end)
            return -1;
        dst[o] = '\0';
        return 0;
    }
    /* Unquoted: a " #" starts a comment, trailing blanks are not part of
     * the key (editors add them). */
    const char *stop = end;
    for (const char *s = p; s < end; s++)
        if (*s == '#' && s > p && (s[-1] == ' ' || s[-1] == '\t')) {
            stop = s;
            break;
        }
    while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    memcpy(dst, p, (size_t)(stop - p));
    dst[stop - p] = '\0';
    return 0;
}

int aigtatt_env_file_lookup(const char *path, const char *name, char **value)
{
    *value = NULL;
    char *buf = NULL, *val = NULL;
    size_t len = 0;
    int rc = read_private(path, &buf, &len);
    if (rc != AIGTATT_OK)
        return rc;
    size_t nlen = strlen(name);
    const char *p = buf, *eof = buf + len;
    int line = 0;
    while (p < eof) {
        line++;
        const char *end = memchr(p, '\n', (size_t)(eof - p));
        const char *next = end ? end + 1 : eof;
        if (!end)
            end = eof;
        if (end > p && end[-1] == '\r')
            end--;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end || *p == '#') {
            p = next;
            continue;
        }
        if ((size_t)(end - p) > 7 && !strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t')) {
            p += 7;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        }
        const char *k = p;
        while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
            p++;
        size_t klen = (size_t)(p - k);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (klen == 0 || p == end || *p != '=') {
            /* The line may hold a key: say where, never what. */
            aigtatt_set_error("%s:%d: expected KEY=VALUE", path, line);
            rc = AIGTATT_ERR_FORMAT;
            goto done;
        }
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (klen == nlen && !memcmp(k, name, nlen)) {
            char *v = malloc((size_t)(end - p) + 1);
            if (!v) {
                rc = AIGTATT_ERR_NOMEM;
                goto done;
            }
            if (parse_value(p, end, v) != 0) {
                explicit_bzero(v, (size_t)(end - p) + 1);
                free(v);
                aigtatt_set_error("%s:%d: unterminated quote", path, line);
                rc = AIGTATT_ERR_FORMAT;
                goto done;
            }
            /* The last assignment wins, as when a shell sources the file. */
            if (val) {
                explicit_bzero(val, strlen(val));
                free(val);
            }
            val = v;
        }
        p = next;
    }
    rc = val && val[0] ? AIGTATT_OK : AIGTATT_ERR_INVALID;
done:
    explicit_bzero(buf, ENV_FILE_MAX + 1);
    free(buf);
    if (rc == AIGTATT_OK) {
        *value = val;
    } else if (val) {
        explicit_bzero(val, strlen(val));
        free(val);
    }
    return rc;
}

int aigtatt_secret_get(const char *name, const char **value)
{
    if (value)
        *value = NULL;
    if (!name || !value) {
        aigtatt_set_error("secret_get: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    if (!valid_name(name)) {
        aigtatt_set_error("secret_get: '%.64s' is not a variable name (letters, digits, _)", name);
        return AIGTATT_ERR_INVALID;
    }
    int rc = AIGTATT_OK;
    char *from_file = NULL;
    pthread_mutex_lock(&aigtatt_secret_lock);
    for (size_t i = 0; i < aigtatt_secret_count; i++)
        if (aigtatt_secret_list[i].name && !strcmp(aigtatt_secret_list[i].name, name)) {
            *value = aigtatt_secret_list[i].value;
            goto done;
        }
    const char *env = getenv(name);
    if (env && env[0]) {
        rc = register_locked(name, env, value);
        goto done;
    }
    /* AIGTATT_ENV_FILE (or the file set by the program) is the only file
     * when given; otherwise ./.env, then the experiment's folder's .env. */
    const char *path = env_file_path;
    if (!path)
        path = getenv("AIGTATT_ENV_FILE");
    const char *files[2] = {path, NULL};
    size_t n_files = 1;
    if (!path || !path[0]) {
        files[0] = ".env";
        if (env_dir_path && !same_file(".env", env_dir_path))
            files[n_files++] = env_dir_path;
    }
    rc = AIGTATT_ERR_INVALID;
    for (size_t f = 0; f < n_files && rc == AIGTATT_ERR_INVALID; f++)
        rc = aigtatt_env_file_lookup(files[f], name, &from_file);
    if (rc == AIGTATT_ERR_INVALID) {
        if (n_files == 2)
            aigtatt_set_error("API key %s is not set: export %s=... or add a line %s=... to %s or %s "
                              "(readable only by you: chmod 600)", name, name, name, files[0], files[1]);
        else
            aigtatt_set_error("API key %s is not set: export %s=... or add a line %s=... to %s "
                              "(readable only by you: chmod 600)", name, name, name, files[0]);
        goto done;
    }
    if (rc == AIGTATT_OK)
        rc = register_locked(name, from_file, value);
done:
    pthread_mutex_unlock(&aigtatt_secret_lock);
    if (from_file) {
        explicit_bzero(from_file, strlen(from_file));
        free(from_file);
    }
    if (rc == AIGTATT_ERR_NOMEM)
        aigtatt_set_error("secret_get: out of memory");
    return rc;
}
