/* See fake_server.h. Written with plain sockets so that it can misbehave
 * in ways a real server library would not let it (hang, trickle, lie about
 * lengths). */
#include "net/fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATHS 64
#define MAX_CONNS 256
#define REQ_MAX 65536

typedef struct path_stat {
    char path[64];
    int count;
    int auth;
} path_stat;

typedef struct conn {
    fake_server *fs;
    int fd;
    pthread_t thread;
} conn;

struct fake_server {
    int listen_fd[2];
    int port[2];
    int stop_pipe[2]; /* written once at stop; never read, so it stays readable */
    pthread_t acceptor;
    pthread_mutex_t lock;
    path_stat paths[MAX_PATHS];
    int npaths;
    conn *conns[MAX_CONNS];
    int nconns;
    int slow_now, slow_max;
};

static int stopping(fake_server *fs)
{
    struct pollfd p = {.fd = fs->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* Sleeps ms unless the server stops first; returns non-zero if it did. */
static int nap(fake_server *fs, int ms)
{
    struct pollfd p = {.fd = fs->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

static int send_all(int fd, const char *data, size_t n)
{
    while (n) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static void respond(int fd, int status, const char *reason, const char *extra, const char *body)
{
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    snprintf(head, sizeof head,
             "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n%s\r\n",
             status, reason, blen, extra ? extra : "");
    if (send_all(fd, head, strlen(head)) == 0 && blen)
        send_all(fd, body, blen);
}

/* Record the request; returns this path's count including it. */
static int record(fake_server *fs, const char *path, int auth)
{
    pthread_mutex_lock(&fs->lock);
    path_stat *p = NULL;
    for (int i = 0; i < fs->npaths; i++)
        if (!strcmp(fs->paths[i].path, path))
            p = &fs->paths[i];
    if (!p && fs->npaths < MAX_PATHS) {
        p = &fs->paths[fs->npaths++];
        snprintf(p->path, sizeof p->path, "%s", path);
    }
    int n = 0;
    if (p) {
        n = ++p->count;
        p->auth += auth;
    }
    pthread_mutex_unlock(&fs->lock);
    return n;
}

/* Waits until the client goes away or the server stops. */
static void hang(fake_server *fs, int fd)
{
    char buf[512];
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = fs->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return;
        if (p[1].revents)
            return;
        if (p[0].revents) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0)
                return;
        }
    }
}

/* Reads one request; returns its header length and sets *total to header
 * plus body, or -1. */
static int read_request(fake_server *fs, int fd, char *buf, size_t cap, size_t *total)
{
    size_t n = 0;
    long want = -1;
    for (;;) {
        if (want < 0) {
            buf[n] = '\0';
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                size_t hl = (size_t)(end + 4 - buf);
                long cl = 0;
                for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
                    if (!strncasecmp(l + 2, "content-length:", 15))
                        cl = strtol(l + 17, NULL, 10);
                want = (long)hl + cl;
                if ((size_t)want >= cap)
                    return -1;
            }
        }
        if (want >= 0 && n >= (size_t)want) {
            *total = n;
            buf[n] = '\0';
            return (int)(strstr(buf, "\r\n\r\n") + 4 - buf);
        }
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = fs->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, 5000) <= 0 || p[1].revents)
            return -1;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
}

static int has_header(const char *buf, int hlen, const char *name)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(buf, "\r\n"); l && l < buf + hlen; l = strstr(l + 2, "\r\n"))
        if (!strncasecmp(l + 2, name, nl) && l[2 + nl] == ':')
            return 1;
    return 0;
}

static void header_value(const char *buf, int hlen, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *l = strstr(buf, "\r\n"); l && l < buf + hlen; l = strstr(l + 2, "\r\n"))
        if (!strncasecmp(l + 2, name, nl) && l[2 + nl] == ':') {
            const char *v = l + 3 + nl;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)k, v);
        }
}

static void serve(fake_server *fs, int fd)
{
    char *buf = malloc(REQ_MAX);
    if (!buf)
        return;
    size_t total = 0;
    int hlen = read_request(fs, fd, buf, REQ_MAX, &total);
    if (hlen < 0)
        goto done;
    char path[64] = "";
    const char *sp = strchr(buf, ' ');
    if (!sp)
        goto done;
    size_t pl = strcspn(sp + 1, " ?");
    snprintf(path, sizeof path, "%.*s", (int)pl, sp + 1);
    int auth = has_header(buf, hlen, "authorization") || has_header(buf, hlen, "x-api-key");
    int n = record(fs, path, auth);
    char body[1024], extra[256];

    if (!strcmp(path, "/json")) {
        snprintf(body, sizeof body, "{\"ok\":true,\"n\":%d}", n);
        respond(fd, 200, "OK", NULL, body);
    } else if (!strcmp(path, "/echo")) {
        snprintf(body, sizeof body, "%.*s", (int)(total - (size_t)hlen), buf + hlen);
        respond(fd, 200, "OK", NULL, body);
    } else if (!strcmp(path, "/401")) {
        char a[512];
        header_value(buf, hlen, "authorization", a, sizeof a);
        snprintf(body, sizeof body, "{\"error\":{\"message\":\"Incorrect API key provided: %s\"}}", a);
        respond(fd, 401, "Unauthorized", NULL, body);
    } else if (!strcmp(path, "/ra-secs")) {
        if (n == 1)
            respond(fd, 429, "Too Many Requests", "Retry-After: 1\r\n", "{\"error\":\"slow down\"}");
        else
            respond(fd, 200, "OK", NULL, "{\"ok\":true}");
    } else if (!strcmp(path, "/ra-date")) {
        if (n == 1) {
            time_t t = time(NULL) + 2;
            struct tm tm;
            gmtime_r(&t, &tm);
            char date[64];
            strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
            snprintf(extra, sizeof extra, "Retry-After: %s\r\n", date);
            respond(fd, 429, "Too Many Requests", extra, "{\"error\":\"slow down\"}");
        } else {
            respond(fd, 200, "OK", NULL, "{\"ok\":true}");
        }
    } else if (!strcmp(path, "/ra-long")) {
        respond(fd, 429, "Too Many Requests", "Retry-After: 3600\r\n", "{\"error\":\"quota\"}");
    } else if (!strcmp(path, "/flaky500")) {
        if (n <= 2)
            respond(fd, 500, "Internal Server Error", NULL, "{\"error\":\"oops\"}");
        else
            respond(fd, 200, "OK", NULL, "{\"ok\":true}");
    } else if (!strcmp(path, "/flaky503")) {
        if (n == 1)
            respond(fd, 503, "Service Unavailable", NULL, "{\"error\":\"busy\"}");
        else
            respond(fd, 200, "OK", NULL, "{\"ok\":true}");
    } else if (!strcmp(path, "/always500")) {
        respond(fd, 500, "Internal Server Error", NULL, "{\"error\":\"oops\"}");
    } else if (!strcmp(path, "/always503")) {
        respond(fd, 503, "Service Unavailable", NULL, "{\"error\":\"busy\"}");
    } else if (!strcmp(path, "/hang")) {
        hang(fs, fd);
    } else if (!strcmp(path, "/trickle")) {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n";
        if (send_all(fd, head, strlen(head)) == 0)
            for (int i = 0; i < 100 && !nap(fs, 1000); i++)
                if (send_all(fd, "x", 1) != 0)
                    break;
    } else if (!strcmp(path, "/endless")) {
        const char *head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        static char chunk[65536];
        memset(chunk, 'z', sizeof chunk);
        if (send_all(fd, head, strlen(head)) == 0)
            while (!stopping(fs) && send_all(fd, chunk, sizeof chunk) == 0)
                ;
    } else if (!strcmp(path, "/big-cl")) {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n";
        if (send_all(fd, head, strlen(head)) == 0)
            hang(fs, fd);
    } else if (!strcmp(path, "/slow")) {
        pthread_mutex_lock(&fs->lock);
        if (++fs->slow_now > fs->slow_max)
            fs->slow_max = fs->slow_now;
        pthread_mutex_unlock(&fs->lock);
        nap(fs, 300);
        pthread_mutex_lock(&fs->lock);
        fs->slow_now--;
        pthread_mutex_unlock(&fs->lock);
        respond(fd, 200, "OK", NULL, "{\"ok\":true}");
    } else if (!strcmp(path, "/redirect-other")) {
        snprintf(extra, sizeof extra, "Location: http://127.0.0.2:%d/landing\r\n", fs->port[1]);
        respond(fd, 302, "Found", extra, NULL);
    } else if (!strcmp(path, "/redirect-same")) {
        respond(fd, 302, "Found", "Location: /landing\r\n", NULL);
    } else if (!strcmp(path, "/redirect-ext")) {
        respond(fd, 302, "Found", "Location: http://example.invalid/landing\r\n", NULL);
    } else if (!strcmp(path, "/redirect-loop")) {
        respond(fd, 302, "Found", "Location: /redirect-loop\r\n", NULL);
    } else if (!strcmp(path, "/landing")) {
        respond(fd, 200, "OK", NULL, "landed");
    } else {
        respond(fd, 404, "Not Found", NULL, "{\"error\":\"no such path\"}");
    }
done:
    free(buf);
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    serve(c->fs, c->fd);
    /* Half-close first so the client reads the whole answer before the
     * socket goes (a plain close with unread input sends a reset). */
    shutdown(c->fd, SHUT_WR);
    return NULL;
}

static void *accept_main(void *arg)
{
    fake_server *fs = arg;
    for (;;) {
        struct pollfd p[3] = {{.fd = fs->listen_fd[0], .events = POLLIN},
                              {.fd = fs->listen_fd[1], .events = POLLIN},
                              {.fd = fs->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (p[2].revents)
            return NULL;
        for (int i = 0; i < 2; i++) {
            if (!p[i].revents)
                continue;
            int fd = accept(fs->listen_fd[i], NULL, NULL);
            if (fd < 0)
                continue;
            conn *c = calloc(1, sizeof *c);
            pthread_mutex_lock(&fs->lock);
            int room = fs->nconns < MAX_CONNS;
            pthread_mutex_unlock(&fs->lock);
            if (!c || !room) {
                free(c);
                close(fd);
                continue;
            }
            c->fs = fs;
            c->fd = fd;
            if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
                close(fd);
                free(c);
                continue;
            }
            pthread_mutex_lock(&fs->lock);
            fs->conns[fs->nconns++] = c;
            pthread_mutex_unlock(&fs->lock);
        }
    }
}

static int listen_on(const char *ip, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

fake_server *fake_start(void)
{
    fake_server *fs = calloc(1, sizeof *fs);
    if (!fs)
        return NULL;
    pthread_mutex_init(&fs->lock, NULL);
    fs->listen_fd[0] = listen_on("127.0.0.1", &fs->port[0]);
    fs->listen_fd[1] = listen_on("127.0.0.2", &fs->port[1]);
    if (fs->listen_fd[0] < 0 || fs->listen_fd[1] < 0 || pipe(fs->stop_pipe) != 0 ||
        pthread_create(&fs->acceptor, NULL, accept_main, fs) != 0) {
        if (fs->listen_fd[0] >= 0)
            close(fs->listen_fd[0]);
        if (fs->listen_fd[1] >= 0)
            close(fs->listen_fd[1]);
        free(fs);
        return NULL;
    }
    return fs;
}

void fake_stop(fake_server *fs)
{
    if (!fs)
        return;
    ssize_t w = write(fs->stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(fs->acceptor, NULL);
    for (int i = 0; i < fs->nconns; i++) {
        shutdown(fs->conns[i]->fd, SHUT_RDWR);
        pthread_join(fs->conns[i]->thread, NULL);
        close(fs->conns[i]->fd);
        free(fs->conns[i]);
    }
    close(fs->listen_fd[0]);
    close(fs->listen_fd[1]);
    close(fs->stop_pipe[0]);
    close(fs->stop_pipe[1]);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}

int fake_port(const fake_server *fs, int which) { return fs->port[which ? 1 : 0]; }

static path_stat *find(fake_server *fs, const char *path)
{
    for (int i = 0; i < fs->npaths; i++)
        if (!strcmp(fs->paths[i].path, path))
            return &fs->paths[i];
    return NULL;
}

int fake_count(fake_server *fs, const char *path)
{
    pthread_mutex_lock(&fs->lock);
    path_stat *p = find(fs, path);
    int n = p ? p->count : 0;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

int fake_auth_count(fake_server *fs, const char *path)
{
    pthread_mutex_lock(&fs->lock);
    path_stat *p = find(fs, path);
    int n = p ? p->auth : 0;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

int fake_max_concurrent(fake_server *fs)
{
    pthread_mutex_lock(&fs->lock);
    int n = fs->slow_max;
    pthread_mutex_unlock(&fs->lock);
    return n;
}
