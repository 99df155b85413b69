/* A fake of the provider APIs on 127.0.0.1 (and 127.0.0.2 as "another
 * host"), speaking their real request and response shapes, with failures
 * switched on per route. One thread per connection, one answer per
 * connection (Connection: close), plain sockets so it can misbehave
 * (hang, trickle, endless bodies, lies).
 *
 * Routes (label: request):
 *   chat          POST /v1/chat/completions        OpenAI chat completion
 *   images        POST /v1/images/generations      OpenAI images (b64_json)
 *   create        POST /v1/predictions, POST /v1/models/O/N/predictions
 *   poll          GET  /v1/predictions/ID
 *   cancel        POST /v1/predictions/ID/cancel
 *   download      GET  /out/NAME                  the PNG of an output
 *   files         POST /v1/files                   multipart upload
 *   train         POST /v1/models/O/N/versions/V/trainings
 *   train_poll    GET  /v1/trainings/ID
 *   train_cancel  POST /v1/trainings/ID/cancel
 *   model_get     GET  /v1/models/O/N
 *   model_create  POST /v1/models
 *   txt2img       POST /sdapi/v1/txt2img           AUTOMATIC1111 API
 *   landing       GET  /landing (either address)   "landed"
 *   other         anything else: 404
 */
#ifndef AIGTATT_TEST_FAKE_API_H
#define AIGTATT_TEST_FAKE_API_H

#include <stddef.h>

typedef enum fa_mode {
    FA_OK = 0,
    FA_401,          /* 401; the error message echoes the Authorization header */
    FA_404,
    FA_RA_SECS,      /* 429 Retry-After: 1 (each request the rule covers) */
    FA_RA_DATE,      /* 429 Retry-After: <HTTP date 2 s ahead> */
    FA_500,
    FA_503,          /* 503 without Retry-After */
    FA_HANG,         /* reads the request, never answers */
    FA_TRICKLE,      /* 200, Content-Length 100, one byte a second */
    FA_ENDLESS,      /* 200 without length, bytes until the client leaves */
    FA_REDIRECT,     /* 302 to http://127.0.0.2:<port>/landing */
    FA_MALFORMED,    /* 200 with truncated JSON */
    FA_FAIL,         /* prediction/training ends "failed" */
    FA_CANCELED,     /* prediction ends "canceled" */
    FA_HOLD,         /* prediction/training stays "processing" until fa_release() */
    FA_ASYNC,        /* create answers "starting" even with Prefer: wait */
    FA_SCHEMA_REJECT,/* chat: 400 naming response_format for json_schema */
    FA_FORMAT_REJECT,/* chat: 400 naming response_format for any response_format */
    FA_DIRTY,        /* chat: answers carry duplicates, invalid prompts, chatter */
    FA_REFUSE_SECOND,/* chat: the route's second request gets a refusal (content null) */
    FA_ECHO_KEY,     /* success, with the Authorization value in a text field */
    FA_WEBP,         /* download/images: WebP bytes */
    FA_BADIMG,       /* download/images: a PNG signature and garbage */
    FA_POLICY,       /* images: 400 content_policy_violation */
    FA_SLOW          /* waits 300 ms, then answers as FA_OK (counted in fa_max_concurrent) */
} fa_mode;

typedef struct fake_api fake_api;

fake_api *fa_start(void);
void fa_stop(fake_api *fa);
/** Port on 127.0.0.1 (0) or 127.0.0.2 (1). */
int fa_port(const fake_api *fa, int which);
/** Requests on `route` numbered from..to (1-based, per route) get `mode`;
 *  later rules win. to = 0: no upper end. */
void fa_rule(fake_api *fa, const char *route, fa_mode mode, int from, int to);
/** All requests on `route` get `mode`. */
void fa_set(fake_api *fa, const char *route, fa_mode mode);
/** Drops the rules (counts stay). */
void fa_clear_rules(fake_api *fa);
/** Lets held predictions and trainings finish. */
void fa_release(fake_api *fa);
/* Held jobs end "aborted" from their next poll on. */
void fa_abort_held(fake_api *fa);
/** Requests seen on a route; "*" counts all. */
int fa_count(fake_api *fa, const char *route);
/** Of those, how many carried Authorization or X-Api-Key. */
int fa_auth_count(fake_api *fa, const char *route);
/** A copy (malloc'ed) of the last request body on `route`, or NULL. */
char *fa_last_body(fake_api *fa, const char *route, size_t *len);
/** A copy (malloc'ed) of header `name` of the last request on `route`. */
char *fa_last_header(fake_api *fa, const char *route, const char *name);
/** The most FA_SLOW requests the server held at the same time since the
 *  start or the last reset (reset != 0 sets it back to 0 after reading). */
int fa_max_concurrent(fake_api *fa, int reset);
/** The PNG every image answer carries (64x48). */
const unsigned char *fa_png(const fake_api *fa, size_t *len);

#endif
