/* See fake_api.h. The approach of tests/net/fake_server.c (plain sockets,
 * a thread per connection, a stop pipe), grown into the shapes of the
 * OpenAI, Replicate and AUTOMATIC1111 APIs. */
#define _GNU_SOURCE /* memmem */
#include "provider/fake_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
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

#include "image/image.h"

#define MAX_ROUTES 32
#define MAX_RULES 64
#define MAX_JOBS 1024
#define MAX_CONNS 1024
#define HEAD_MAX (256 * 1024)
#define BODY_MAX (256u << 20)

typedef struct route_stat {
    char name[24];
    int count, auth;
    char *body;
    size_t body_len;
    char *head;
} route_stat;

typedef struct rule {
    char route[24];
    fa_mode mode;
    int from, to;
} rule;

typedef struct job {
    char id[16];
    int training;
    fa_mode mode;
    int polls;
    int canceled;
    char dest[128];
} job;

typedef struct conn {
    fake_api *fa;
    int fd;
    pthread_t thread;
    atomic_int done;
} conn;

struct fake_api {
    int listen_fd[2], port[2], stop_pipe[2];
    pthread_t acceptor;
    pthread_mutex_t lock;
    route_stat routes[MAX_ROUTES];
    int nroutes;
    rule rules[MAX_RULES];
    int nrules;
    job jobs[MAX_JOBS];
    int njobs, ntrain, nfiles, nchat;
    int released;
    int aborted; /* held jobs end "aborted" (Replicate's status for a job the platform stopped) */
    int prompt_counter;
    int active, max_active; /* FA_SLOW requests being held */
    conn *conns[MAX_CONNS];
    int nconns;
    unsigned char *png;
    size_t png_len;
    char *png_b64;
};

/* ---- small tools -------------------------------------------------------- */

static char *b64(const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((n + 2) / 3 * 4 + 1);
    size_t w = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        o[w++] = t[(v >> 18) & 63];
        o[w++] = t[(v >> 12) & 63];
        o[w++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        o[w++] = i + 2 < n ? t[v & 63] : '=';
    }
    o[w] = 0;
    return o;
}

static void sha256_hex(const void *d, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(d, n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int stopping(fake_api *fa)
{
    struct pollfd p = {.fd = fa->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

static int nap(fake_api *fa, int ms)
{
    struct pollfd p = {.fd = fa->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

static int send_all(int fd, const void *data, size_t n)
{
    const char *d = data;
    while (n) {
        ssize_t w = send(fd, d, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        d += w;
        n -= (size_t)w;
    }
    return 0;
}

static void respond(int fd, int status, const char *reason, const char *extra, const char *ctype, const void *body,
                    size_t blen)
{
    char head[2048];
    snprintf(head, sizeof head,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
             reason, ctype ? ctype : "application/json", blen, extra ? extra : "");
    if (send_all(fd, head, strlen(head)) == 0 && blen)
        send_all(fd, body, blen);
}

static void respond_text(int fd, int status, const char *reason, const char *extra, const char *body)
{
    respond(fd, status, reason, extra, NULL, body, strlen(body));
}

static void respond_json(int fd, int status, const char *extra, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    const char *reason = status == 200 ? "OK" : status == 201 ? "Created" : status == 400 ? "Bad Request"
                         : status == 404 ? "Not Found" : "Status";
    respond(fd, status, reason, extra, "application/json", s, strlen(s));
    free(s);
    json_decref(j);
}

static void hang(fake_api *fa, int fd)
{
    char buf[512];
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = fa->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return;
        if (p[1].revents)
            return;
        if (p[0].revents && recv(fd, buf, sizeof buf, 0) <= 0)
            return;
    }
}

/* ---- request reading ------------------------------------------------------ */

typedef struct req {
    char *buf;       /* headers then body */
    size_t head_len, body_len;
    char method[16], path[512];
} req;

static int read_request(fake_api *fa, int fd, req *r)
{
    size_t cap = 65536, n = 0;
    long want = -1;
    r->buf = malloc(cap + 1);
    for (;;) {
        if (want < 0) {
            r->buf[n] = 0;
            char *end = strstr(r->buf, "\r\n\r\n");
            if (end) {
                r->head_len = (size_t)(end + 4 - r->buf);
                long cl = 0;
                for (char *l = strstr(r->buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
                    if (!strncasecmp(l + 2, "content-length:", 15))
                        cl = strtol(l + 17, NULL, 10);
                if (cl < 0 || (unsigned long)cl > BODY_MAX)
                    return -1;
                want = (long)r->head_len + cl;
                if ((size_t)want + 1 > cap) {
                    cap = (size_t)want + 1;
                    r->buf = realloc(r->buf, cap + 1);
                }
            } else if (n > HEAD_MAX) {
                return -1;
            }
        }
        if (want >= 0 && n >= (size_t)want) {
            r->body_len = n - r->head_len;
            r->buf[n] = 0;
            break;
        }
        if (n == cap) {
            cap *= 2;
            r->buf = realloc(r->buf, cap + 1);
        }
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = fa->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, 10000) <= 0 || p[1].revents)
            return -1;
        ssize_t got = recv(fd, r->buf + n, cap - n, 0);
        if (got <= 0)
            return -1;
        n += (size_t)got;
    }
    if (sscanf(r->buf, "%15s %511s", r->method, r->path) != 2)
        return -1;
    r->path[strcspn(r->path, "?")] = 0;
    return 0;
}

static void header_value(const req *r, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    out[0] = 0;
    for (const char *l = strstr(r->buf, "\r\n"); l && l < r->buf + r->head_len; l = strstr(l + 2, "\r\n"))
        if (!strncasecmp(l + 2, name, nl) && l[2 + nl] == ':') {
            const char *v = l + 3 + nl;
            while (*v == ' ')
                v++;
            snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
        }
}

static const char *route_of(const req *r)
{
    const char *m = r->method, *p = r->path;
    int post = !strcmp(m, "POST"), get = !strcmp(m, "GET");
    size_t n = strlen(p);
    if (post && !strcmp(p, "/v1/chat/completions"))
        return "chat";
    if (post && !strcmp(p, "/v1/images/generations"))
        return "images";
    if (post && !strcmp(p, "/sdapi/v1/txt2img"))
        return "txt2img";
    if (post && !strcmp(p, "/v1/predictions"))
        return "create";
    if (!strncmp(p, "/v1/predictions/", 16))
        return post && n > 7 && !strcmp(p + n - 7, "/cancel") ? "cancel" : get ? "poll" : "other";
    if (!strncmp(p, "/v1/trainings/", 14))
        return post && n > 7 && !strcmp(p + n - 7, "/cancel") ? "train_cancel" : get ? "train_poll" : "other";
    if (post && !strcmp(p, "/v1/files"))
        return "files";
    if (post && !strcmp(p, "/v1/models"))
        return "model_create";
    if (!strncmp(p, "/v1/models/", 11)) {
        if (post && n > 12 && !strcmp(p + n - 12, "/predictions"))
            return "create";
        if (post && n > 10 && !strcmp(p + n - 10, "/trainings"))
            return "train";
        int slashes = 0;
        for (const char *s = p + 11; *s; s++)
            slashes += *s == '/';
        if (get && slashes == 1)
            return "model_get";
        return "other";
    }
    if (get && !strncmp(p, "/out/", 5))
        return "download";
    if (!strcmp(p, "/landing"))
        return "landing";
    return "other";
}

/* Counts the request; returns its number on the route and its mode. */
static fa_mode record(fake_api *fa, const char *route, const req *r, int auth, int *number)
{
    pthread_mutex_lock(&fa->lock);
    route_stat *st = NULL;
    for (int i = 0; i < fa->nroutes; i++)
        if (!strcmp(fa->routes[i].name, route))
            st = &fa->routes[i];
    if (!st && fa->nroutes < MAX_ROUTES) {
        st = &fa->routes[fa->nroutes++];
        snprintf(st->name, sizeof st->name, "%s", route);
    }
    int n = 0;
    if (st) {
        n = ++st->count;
        st->auth += auth;
        free(st->body);
        free(st->head);
        st->body = malloc(r->body_len + 1);
        memcpy(st->body, r->buf + r->head_len, r->body_len);
        st->body[r->body_len] = 0;
        st->body_len = r->body_len;
        st->head = strndup(r->buf, r->head_len);
    }
    fa_mode mode = FA_OK;
    for (int i = 0; i < fa->nrules; i++) {
        rule *u = &fa->rules[i];
        if (!strcmp(u->route, route) && n >= u->from && (u->to == 0 || n <= u->to))
            mode = u->mode;
    }
    pthread_mutex_unlock(&fa->lock);
    *number = n;
    return mode;
}

/* ---- the routes ------------------------------------------------------------ */

static json_t *job_json(fake_api *fa, job *j, const char *status)
{
    char get[256], cancel[256];
    const char *kind = j->training ? "trainings" : "predictions";
    snprintf(get, sizeof get, "http://127.0.0.1:%d/v1/%s/%s", fa->port[0], kind, j->id);
    snprintf(cancel, sizeof cancel, "%s/cancel", get);
    json_t *o = json_pack("{ss ss ss ss s{ssss} s{sf}}", "id", j->id, "status", status, "created_at",
                          "2025-01-01T00:00:00.000Z", "model", j->training ? "stability-ai/sdxl" : "stability-ai/sdxl",
                          "urls", "get", get, "cancel", cancel, "metrics", "predict_time", 1.25);
    json_object_set_new(o, "version", json_string("7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"));
    json_object_set_new(o, "output", json_null());
    json_object_set_new(o, "error", json_null());
    if (!strcmp(status, "succeeded")) {
        char url[256];
        if (j->training) {
            char ver[300];
            snprintf(ver, sizeof ver, "%s:%064d", j->dest, atoi(j->id + 1));
            snprintf(url, sizeof url, "http://127.0.0.1:%d/out/trained.tar", fa->port[0]);
            json_object_set_new(o, "output", json_pack("{ssss}", "version", ver, "weights", url));
        } else {
            snprintf(url, sizeof url, "http://127.0.0.1:%d/out/%s.png", fa->port[0], j->id);
            json_object_set_new(o, "output", json_pack("[s]", url));
        }
    } else if (!strcmp(status, "failed")) {
        json_object_set_new(o, "error", json_string("NSFW content detected. Try running it again, or try a different "
                                                    "prompt."));
    }
    return o;
}

static job *find_job(fake_api *fa, const char *id)
{
    for (int i = 0; i < fa->njobs; i++)
        if (!strcmp(fa->jobs[i].id, id))
            return &fa->jobs[i];
    return NULL;
}

/* The status a poll sees: processing once, then the outcome. */
static const char *advance(fake_api *fa, job *j)
{
    if (j->canceled)
        return "canceled";
    j->polls++;
    if (j->mode == FA_HOLD && fa->aborted)
        return "aborted";
    if (j->mode == FA_HOLD && !fa->released)
        return "processing";
    if (j->polls < 2)
        return "processing";
    if (j->mode == FA_FAIL)
        return "failed";
    if (j->mode == FA_CANCELED)
        return "canceled";
    return "succeeded";
}

static void serve_create(fake_api *fa, int fd, const req *r, fa_mode mode, int training, const char *auth)
{
    json_t *in = json_loadb(r->buf + r->head_len, r->body_len, 0, NULL);
    if (!json_is_object(in) || !json_is_object(json_object_get(in, "input"))) {
        json_decref(in);
        respond_json(fd, 422, NULL, json_pack("{ss si}", "detail", "input is required", "status", 422));
        return;
    }
    pthread_mutex_lock(&fa->lock);
    job *j = fa->njobs < MAX_JOBS ? &fa->jobs[fa->njobs++] : &fa->jobs[0];
    memset(j, 0, sizeof *j);
    snprintf(j->id, sizeof j->id, "%c%d", training ? 't' : 'p', training ? ++fa->ntrain : fa->njobs);
    j->training = training;
    j->mode = mode;
    const char *dest = json_string_value(json_object_get(in, "destination"));
    snprintf(j->dest, sizeof j->dest, "%s", dest ? dest : "me/tattoo");
    char prefer[64];
    header_value(r, "prefer", prefer, sizeof prefer);
    int sync = !training && strstr(prefer, "wait") && (mode == FA_OK || mode == FA_ECHO_KEY || mode == FA_WEBP ||
                                                      mode == FA_BADIMG || mode == FA_REDIRECT);
    json_t *o = job_json(fa, j, sync ? "succeeded" : "starting");
    pthread_mutex_unlock(&fa->lock);
    json_object_set(o, "input", json_object_get(in, "input"));
    if (mode == FA_ECHO_KEY) {
        char logs[600];
        snprintf(logs, sizeof logs, "using token %s", auth);
        json_object_set_new(o, "logs", json_string(logs));
    }
    json_decref(in);
    respond_json(fd, 201, NULL, o);
}

static void serve_poll(fake_api *fa, int fd, const req *r, int training, int cancel)
{
    char id[64];
    const char *p = r->path + (training ? 14 : 16);
    snprintf(id, sizeof id, "%.*s", (int)strcspn(p, "/"), p);
    pthread_mutex_lock(&fa->lock);
    job *j = find_job(fa, id);
    if (!j) {
        pthread_mutex_unlock(&fa->lock);
        respond_json(fd, 404, NULL, json_pack("{ss si}", "detail", "Not found.", "status", 404));
        return;
    }
    if (cancel)
        j->canceled = 1;
    json_t *o = job_json(fa, j, cancel ? "canceled" : advance(fa, j));
    pthread_mutex_unlock(&fa->lock);
    respond_json(fd, 200, NULL, o);
}

static const unsigned char webp[] = "RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0\x30\x01\0\x9d\x01\x2a\x01\0\x01\0";
static const unsigned char badpng[] = "\x89PNG\r\n\x1a\nthis is not really a png at all";

static void serve_download(fake_api *fa, int fd, fa_mode mode, const char *auth)
{
    if (mode == FA_ECHO_KEY) {
        /* a PNG with the key hidden after IEND, where decoders do not look */
        size_t n = fa->png_len + strlen(auth);
        unsigned char *b = malloc(n);
        memcpy(b, fa->png, fa->png_len);
        memcpy(b + fa->png_len, auth, strlen(auth));
        respond(fd, 200, "OK", NULL, "image/png", b, n);
        free(b);
    } else if (mode == FA_WEBP)
        respond(fd, 200, "OK", NULL, "image/webp", webp, sizeof webp - 1);
    else if (mode == FA_BADIMG)
        respond(fd, 200, "OK", NULL, "image/png", badpng, sizeof badpng - 1);
    else
        respond(fd, 200, "OK", NULL, "image/png", fa->png, fa->png_len);
}

static const char *const subjects[] = {"a wolf howling at a crescent moon", "a koi fish in swirling waves",
                                       "a rose wrapped around a dagger", "a geometric stag head",
                                       "an hourglass with falling stars", "a snake coiled around a skull",
                                       "a lighthouse in a storm", "a phoenix rising from ashes"};

static void serve_chat(fake_api *fa, int fd, const req *r, fa_mode mode, int n, const char *auth)
{
    json_t *in = json_loadb(r->buf + r->head_len, r->body_len, 0, NULL);
    if (mode == FA_REFUSE_SECOND && n == 2) {
        json_decref(in);
        respond_json(fd, 200, NULL,
                     json_pack("{ss ss si ss s[{si s{ss sn ss} ss}] s{si si si}}", "id", "chatcmpl-refused", "object",
                               "chat.completion", "created", 1700000000, "model", "fake-gpt-2025", "choices", "index",
                               0, "message", "role", "assistant", "content", "refusal",
                               "I can't help with that request.", "finish_reason", "stop", "usage", "prompt_tokens",
                               100, "completion_tokens", 8, "total_tokens", 108));
        return;
    }
    const char *rf = json_string_value(json_object_get(json_object_get(in, "response_format"), "type"));
    if ((mode == FA_SCHEMA_REJECT && rf && !strcmp(rf, "json_schema")) || (mode == FA_FORMAT_REJECT && rf)) {
        json_decref(in);
        if (mode == FA_SCHEMA_REJECT)
            respond_json(fd, 400, NULL,
                         json_pack("{s{ss ss ss so}}", "error", "message",
                                   "Invalid parameter: 'response_format' of type 'json_schema' is not supported with "
                                   "this model.", "type", "invalid_request_error", "param", "response_format", "code",
                                   json_null()));
        else
            respond_json(fd, 400, NULL,
                         json_pack("{s{si ss ss}}", "error", "code", 400, "message",
                                   "Unsupported param: response_format", "type", "invalid_request_error"));
        return;
    }
    const char *user = json_string_value(json_object_get(json_array_get(json_object_get(in, "messages"), 1), "content"));
    int want = 3;
    const char *ex = user ? strstr(user, "exactly ") : NULL;
    if (ex)
        want = atoi(ex + 8);
    if (want < 1 || want > 500)
        want = 3;
    json_t *arr = json_array();
    pthread_mutex_lock(&fa->lock);
    for (int i = 0; i < want; i++) {
        int k = ++fa->prompt_counter;
        char p[512];
        snprintf(p, sizeof p, "In the style of TOK, a unique, intricate tattoo on the forearm describing %s, design %d",
                 subjects[k % 8], k);
        json_array_append_new(arr, json_string(p));
    }
    pthread_mutex_unlock(&fa->lock);
    if (mode == FA_DIRTY) {
        /* a duplicate (case and punctuation aside), a wrong structure, a
         * too-short one, a numbered one with the prefix in lower case */
        const char *first = json_string_value(json_array_get(arr, 0));
        char dup[600];
        snprintf(dup, sizeof dup, "  %s!  ", first);
        for (char *c = dup; *c; c++)
            if (*c >= 'a' && *c <= 'z' && c[1] == ' ')
                *c = (char)(*c - 32);
        json_array_append_new(arr, json_string(dup));
        json_array_append_new(arr, json_string("A tattoo of a cat without the structure, long enough to pass length."));
        json_array_append_new(arr, json_string("In the style"));
        json_array_append_new(arr, json_integer(42));
    }
    json_t *doc = json_pack("{so}", "prompts", arr);
    char *djson = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    char *content;
    if (rf) {
        content = djson;
    } else {
        size_t cl = strlen(djson) + 128;
        content = malloc(cl);
        snprintf(content, cl, "Sure! Here are your prompts:\n```json\n%s\n```\nEnjoy.", djson);
        free(djson);
    }
    char id[64], fp[600], reqid[64];
    snprintf(id, sizeof id, "chatcmpl-%d", n);
    snprintf(fp, sizeof fp, "fp_%s", mode == FA_ECHO_KEY ? auth : "fake");
    snprintf(reqid, sizeof reqid, "x-request-id: req_%d\r\n", n);
    json_t *o = json_pack("{ss ss si ss s[{si s{ss ss so} ss}] s{si si si} ss}", "id", id, "object", "chat.completion",
                          "created", 1700000000, "model", "fake-gpt-2025", "choices", "index", 0, "message", "role",
                          "assistant", "content", content, "refusal", json_null(), "finish_reason", "stop", "usage",
                          "prompt_tokens", 100, "completion_tokens", 20 * want, "total_tokens", 100 + 20 * want,
                          "system_fingerprint", fp);
    free(content);
    json_decref(in);
    respond_json(fd, 200, reqid, o);
}

static void serve_images(fake_api *fa, int fd, int n, fa_mode mode, const char *auth)
{
    if (mode == FA_POLICY) {
        respond_json(fd, 400, NULL,
                     json_pack("{s{ss ss ss}}", "error", "message",
                               "Your request was rejected as a result of our safety system.", "type",
                               "invalid_request_error", "code", "content_policy_violation"));
        return;
    }
    char *data = mode == FA_WEBP ? b64(webp, sizeof webp - 1)
                 : mode == FA_BADIMG ? b64(badpng, sizeof badpng - 1) : strdup(fa->png_b64);
    char revised[600], reqid[64];
    snprintf(revised, sizeof revised, "a tattoo (revised %s)", mode == FA_ECHO_KEY ? auth : "");
    snprintf(reqid, sizeof reqid, "x-request-id: req_img_%d\r\n", n);
    json_t *o = json_pack("{si s[{ssss}] s{si si si}}", "created", 1700000000, "data", "b64_json", data,
                          "revised_prompt", revised, "usage", "input_tokens", 50, "output_tokens", 4160,
                          "total_tokens", 4210);
    free(data);
    respond_json(fd, 200, reqid, o);
}

static void serve_txt2img(fake_api *fa, int fd, const req *r, fa_mode mode, const char *auth)
{
    json_t *in = json_loadb(r->buf + r->head_len, r->body_len, 0, NULL);
    json_int_t seed = json_integer_value(json_object_get(in, "seed"));
    char info[800];
    snprintf(info, sizeof info, "{\"seed\": %lld, \"all_seeds\": [%lld], \"sd_model_name\": \"fake-xl\", "
             "\"sd_model_hash\": \"abc123\", \"sampler_name\": \"Euler a\"%s%s%s}", (long long)seed, (long long)seed,
             mode == FA_ECHO_KEY ? ", \"note\": \"" : "", mode == FA_ECHO_KEY ? auth : "",
             mode == FA_ECHO_KEY ? "\"" : "");
    char *data = mode == FA_BADIMG ? b64(badpng, sizeof badpng - 1) : strdup(fa->png_b64);
    json_t *o = json_pack("{s[s] sO ss}", "images", data, "parameters", in ? in : json_object(), "info", info);
    free(data);
    json_decref(in);
    respond_json(fd, 200, NULL, o);
}

static void serve_files(fake_api *fa, int fd, const req *r)
{
    const char *body = r->buf + r->head_len;
    const char *mark = memmem(body, r->body_len, "name=\"content\"", 14);
    const char *start = mark ? memmem(mark, r->body_len - (size_t)(mark - body), "\r\n\r\n", 4) : NULL;
    char ctype[256], boundary[200];
    header_value(r, "content-type", ctype, sizeof ctype);
    const char *b = strstr(ctype, "boundary=");
    snprintf(boundary, sizeof boundary, "\r\n--%s", b ? b + 9 : "");
    const char *end = start ? memmem(start + 4, r->body_len - (size_t)(start + 4 - body), boundary, strlen(boundary))
                            : NULL;
    if (!b || !start || !end) {
        respond_json(fd, 400, NULL, json_pack("{ss}", "detail", "multipart field 'content' is required"));
        return;
    }
    size_t len = (size_t)(end - start - 4);
    char hex[65];
    sha256_hex(start + 4, len, hex);
    pthread_mutex_lock(&fa->lock);
    int k = ++fa->nfiles;
    pthread_mutex_unlock(&fa->lock);
    char id[32], url[256];
    snprintf(id, sizeof id, "file%d", k);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/files/%s", fa->port[0], id);
    respond_json(fd, 201, NULL,
                 json_pack("{ss ss ss sI s{ss ss} ss ss s{ss}}", "id", id, "name", "training_images.zip",
                           "content_type", "application/zip", "size", (json_int_t)len, "checksums", "sha256", hex,
                           "md5", "", "created_at", "2025-01-01T00:00:00Z", "expires_at", "2099-01-01T00:00:00Z",
                           "urls", "get", url));
}

static void serve(fake_api *fa, int fd)
{
    req r;
    memset(&r, 0, sizeof r);
    if (read_request(fa, fd, &r) != 0) {
        free(r.buf);
        return;
    }
    const char *route = route_of(&r);
    char auth[512];
    header_value(&r, "authorization", auth, sizeof auth);
    char xk[512];
    header_value(&r, "x-api-key", xk, sizeof xk);
    int n = 0;
    fa_mode mode = record(fa, route, &r, auth[0] || xk[0], &n);
    char extra[256], body[1200];
    switch (mode) {
    case FA_401:
        snprintf(body, sizeof body,
                 "{\"error\":{\"message\":\"Incorrect API key provided: %s\",\"type\":\"invalid_request_error\","
                 "\"code\":\"invalid_api_key\"},\"detail\":\"Invalid token %s\",\"title\":\"Unauthenticated\","
                 "\"status\":401}", auth, auth);
        respond(fd, 401, "Unauthorized", NULL, NULL, body, strlen(body));
        goto done;
    case FA_404:
        respond_text(fd, 404, "Not Found", NULL, "{\"detail\":\"Not found.\",\"status\":404}");
        goto done;
    case FA_RA_SECS:
        respond_text(fd, 429, "Too Many Requests", "Retry-After: 1\r\n", "{\"detail\":\"throttled\"}");
        goto done;
    case FA_RA_DATE: {
        time_t t = time(NULL) + 2;
        struct tm tm;
        gmtime_r(&t, &tm);
        char date[64];
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        snprintf(extra, sizeof extra, "Retry-After: %s\r\n", date);
        respond_text(fd, 429, "Too Many Requests", extra, "{\"detail\":\"throttled\"}");
        goto done;
    }
    case FA_500:
        respond_text(fd, 500, "Internal Server Error", NULL, "{\"error\":{\"message\":\"internal error\"}}");
        goto done;
    case FA_503:
        respond_text(fd, 503, "Service Unavailable", NULL, "{\"detail\":\"overloaded\"}");
        goto done;
    case FA_HANG:
        hang(fa, fd);
        goto done;
    case FA_TRICKLE: {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
                           "Connection: close\r\n\r\n";
        if (send_all(fd, head, strlen(head)) == 0)
            for (int i = 0; i < 100 && !nap(fa, 1000); i++)
                if (send_all(fd, "x", 1) != 0)
                    break;
        goto done;
    }
    case FA_ENDLESS: {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n";
        static char chunk[65536];
        memset(chunk, 'z', sizeof chunk);
        if (send_all(fd, head, strlen(head)) == 0)
            while (!stopping(fa) && send_all(fd, chunk, sizeof chunk) == 0)
                ;
        goto done;
    }
    case FA_REDIRECT:
        snprintf(extra, sizeof extra, "Location: http://127.0.0.2:%d/landing\r\n", fa->port[1]);
        respond(fd, 302, "Found", extra, NULL, NULL, 0);
        goto done;
    case FA_MALFORMED:
        respond_text(fd, 200, "OK", NULL, "{\"id\": \"p1\", \"status\": \"succ");
        goto done;
    case FA_SLOW:
        /* counted only while held: the client is then surely waiting */
        pthread_mutex_lock(&fa->lock);
        if (++fa->active > fa->max_active)
            fa->max_active = fa->active;
        pthread_mutex_unlock(&fa->lock);
        nap(fa, 300);
        pthread_mutex_lock(&fa->lock);
        fa->active--;
        pthread_mutex_unlock(&fa->lock);
        mode = FA_OK;
        break;
    default:
        break;
    }
    if (!strcmp(route, "chat"))
        serve_chat(fa, fd, &r, mode, n, auth);
    else if (!strcmp(route, "images"))
        serve_images(fa, fd, n, mode, auth);
    else if (!strcmp(route, "txt2img"))
        serve_txt2img(fa, fd, &r, mode, auth);
    else if (!strcmp(route, "create"))
        serve_create(fa, fd, &r, mode, 0, auth);
    else if (!strcmp(route, "train"))
        serve_create(fa, fd, &r, mode, 1, auth);
    else if (!strcmp(route, "poll"))
        serve_poll(fa, fd, &r, 0, 0);
    else if (!strcmp(route, "cancel"))
        serve_poll(fa, fd, &r, 0, 1);
    else if (!strcmp(route, "train_poll"))
        serve_poll(fa, fd, &r, 1, 0);
    else if (!strcmp(route, "train_cancel"))
        serve_poll(fa, fd, &r, 1, 1);
    else if (!strcmp(route, "download"))
        serve_download(fa, fd, mode, auth);
    else if (!strcmp(route, "files"))
        serve_files(fa, fd, &r);
    else if (!strcmp(route, "model_get"))
        respond_json(fd, 200, NULL, json_pack("{ss ss}", "owner", "me", "name", "tattoo"));
    else if (!strcmp(route, "model_create"))
        respond_json(fd, 201, NULL, json_pack("{ss ss}", "owner", "me", "name", "tattoo"));
    else if (!strcmp(route, "landing"))
        respond(fd, 200, "OK", NULL, "text/plain", "landed", 6);
    else
        respond_text(fd, 404, "Not Found", NULL, "{\"detail\":\"Not found.\"}");
done:
    free(r.buf);
}

/* ---- plumbing -------------------------------------------------------------- */

static void *conn_main(void *arg)
{
    conn *c = arg;
    serve(c->fa, c->fd);
    shutdown(c->fd, SHUT_WR);
    atomic_store(&c->done, 1);
    return NULL;
}

static void *accept_main(void *arg)
{
    fake_api *fa = arg;
    for (;;) {
        struct pollfd p[3] = {{.fd = fa->listen_fd[0], .events = POLLIN},
                              {.fd = fa->listen_fd[1], .events = POLLIN},
                              {.fd = fa->stop_pipe[0], .events = POLLIN}};
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
            int fd = accept(fa->listen_fd[i], NULL, NULL);
            if (fd < 0)
                continue;
            /* Reap finished connections: a polling client opens many. */
            pthread_mutex_lock(&fa->lock);
            int w = 0;
            for (int k = 0; k < fa->nconns; k++) {
                conn *o = fa->conns[k];
                if (atomic_load(&o->done)) {
                    pthread_join(o->thread, NULL);
                    close(o->fd);
                    free(o);
                } else {
                    fa->conns[w++] = o;
                }
            }
            fa->nconns = w;
            int room = fa->nconns < MAX_CONNS;
            pthread_mutex_unlock(&fa->lock);
            conn *c = room ? calloc(1, sizeof *c) : NULL;
            if (!c) {
                close(fd);
                continue;
            }
            c->fa = fa;
            c->fd = fd;
            if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
                close(fd);
                free(c);
                continue;
            }
            pthread_mutex_lock(&fa->lock);
            fa->conns[fa->nconns++] = c;
            pthread_mutex_unlock(&fa->lock);
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
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int make_png(fake_api *fa)
{
    aigtatt_image *img = aigtatt_image_new(64, 48, 3);
    if (!img)
        return -1;
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *px = img->data + (size_t)y * img->stride + (size_t)x * 3;
            px[0] = (uint8_t)(x * 4);
            px[1] = (uint8_t)(y * 5);
            px[2] = (uint8_t)((x ^ y) * 3);
        }
    char path[] = "/tmp/fake-api-XXXXXX.png";
    int fd = mkstemps(path, 4);
    if (fd < 0) {
        aigtatt_image_free(img);
        return -1;
    }
    close(fd);
    int rc = aigtatt_image_save(img, path, 0);
    aigtatt_image_free(img);
    FILE *f = rc == 0 ? fopen(path, "rb") : NULL;
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        fa->png = malloc((size_t)n);
        fa->png_len = fread(fa->png, 1, (size_t)n, f);
        fclose(f);
    }
    unlink(path);
    if (!fa->png)
        return -1;
    fa->png_b64 = b64(fa->png, fa->png_len);
    return 0;
}

fake_api *fa_start(void)
{
    fake_api *fa = calloc(1, sizeof *fa);
    if (!fa)
        return NULL;
    pthread_mutex_init(&fa->lock, NULL);
    if (make_png(fa) != 0) {
        free(fa);
        return NULL;
    }
    fa->listen_fd[0] = listen_on("127.0.0.1", &fa->port[0]);
    fa->listen_fd[1] = listen_on("127.0.0.2", &fa->port[1]);
    if (fa->listen_fd[0] < 0 || fa->listen_fd[1] < 0 || pipe(fa->stop_pipe) != 0 ||
        pthread_create(&fa->acceptor, NULL, accept_main, fa) != 0) {
        if (fa->listen_fd[0] >= 0)
            close(fa->listen_fd[0]);
        if (fa->listen_fd[1] >= 0)
            close(fa->listen_fd[1]);
        free(fa->png);
        free(fa->png_b64);
        free(fa);
        return NULL;
    }
    return fa;
}

void fa_stop(fake_api *fa)
{
    if (!fa)
        return;
    ssize_t w = write(fa->stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(fa->acceptor, NULL);
    for (int i = 0; i < fa->nconns; i++) {
        shutdown(fa->conns[i]->fd, SHUT_RDWR);
        pthread_join(fa->conns[i]->thread, NULL);
        close(fa->conns[i]->fd);
        free(fa->conns[i]);
    }
    for (int i = 0; i < fa->nroutes; i++) {
        free(fa->routes[i].body);
        free(fa->routes[i].head);
    }
    close(fa->listen_fd[0]);
    close(fa->listen_fd[1]);
    close(fa->stop_pipe[0]);
    close(fa->stop_pipe[1]);
    pthread_mutex_destroy(&fa->lock);
    free(fa->png);
    free(fa->png_b64);
    free(fa);
}

int fa_port(const fake_api *fa, int which) { return fa->port[which ? 1 : 0]; }

void fa_rule(fake_api *fa, const char *route, fa_mode mode, int from, int to)
{
    pthread_mutex_lock(&fa->lock);
    if (fa->nrules < MAX_RULES) {
        rule *u = &fa->rules[fa->nrules++];
        snprintf(u->route, sizeof u->route, "%s", route);
        u->mode = mode;
        u->from = from;
        u->to = to;
    }
    pthread_mutex_unlock(&fa->lock);
}

void fa_set(fake_api *fa, const char *route, fa_mode mode) { fa_rule(fa, route, mode, 1, 0); }

void fa_clear_rules(fake_api *fa)
{
    pthread_mutex_lock(&fa->lock);
    fa->nrules = 0;
    pthread_mutex_unlock(&fa->lock);
}

void fa_release(fake_api *fa)
{
    pthread_mutex_lock(&fa->lock);
    fa->released = 1;
    pthread_mutex_unlock(&fa->lock);
}

void fa_abort_held(fake_api *fa)
{
    pthread_mutex_lock(&fa->lock);
    fa->aborted = 1;
    pthread_mutex_unlock(&fa->lock);
}

static route_stat *find_route(fake_api *fa, const char *route)
{
    for (int i = 0; i < fa->nroutes; i++)
        if (!strcmp(fa->routes[i].name, route))
            return &fa->routes[i];
    return NULL;
}

int fa_count(fake_api *fa, const char *route)
{
    pthread_mutex_lock(&fa->lock);
    int n = 0;
    if (!strcmp(route, "*")) {
        for (int i = 0; i < fa->nroutes; i++)
            n += fa->routes[i].count;
    } else {
        route_stat *s = find_route(fa, route);
        n = s ? s->count : 0;
    }
    pthread_mutex_unlock(&fa->lock);
    return n;
}

int fa_auth_count(fake_api *fa, const char *route)
{
    pthread_mutex_lock(&fa->lock);
    int n = 0;
    for (int i = 0; i < fa->nroutes; i++)
        if (!strcmp(route, "*") || !strcmp(fa->routes[i].name, route))
            n += fa->routes[i].auth;
    pthread_mutex_unlock(&fa->lock);
    return n;
}

char *fa_last_body(fake_api *fa, const char *route, size_t *len)
{
    pthread_mutex_lock(&fa->lock);
    route_stat *s = find_route(fa, route);
    char *b = NULL;
    if (s && s->body) {
        b = malloc(s->body_len + 1);
        memcpy(b, s->body, s->body_len + 1);
        if (len)
            *len = s->body_len;
    }
    pthread_mutex_unlock(&fa->lock);
    return b;
}

char *fa_last_header(fake_api *fa, const char *route, const char *name)
{
    pthread_mutex_lock(&fa->lock);
    route_stat *s = find_route(fa, route);
    char *v = NULL;
    if (s && s->head) {
        req r = {.buf = s->head, .head_len = strlen(s->head)};
        char buf[1024];
        header_value(&r, name, buf, sizeof buf);
        if (buf[0])
            v = strdup(buf);
    }
    pthread_mutex_unlock(&fa->lock);
    return v;
}

int fa_max_concurrent(fake_api *fa, int reset)
{
    pthread_mutex_lock(&fa->lock);
    int n = fa->max_active;
    if (reset)
        fa->max_active = 0;
    pthread_mutex_unlock(&fa->lock);
    return n;
}

const unsigned char *fa_png(const fake_api *fa, size_t *len)
{
    *len = fa->png_len;
    return fa->png;
}
