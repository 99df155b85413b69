/* A misbehaving HTTP/1.1 server on 127.0.0.1 and 127.0.0.2 for the HTTP
 * client's tests: one thread per connection, one response per connection
 * (Connection: close). Paths (the query is ignored):
 *
 *   /json            200 {"ok":true,"n":<count>}
 *   /echo            200 with the request body echoed
 *   /401             401 with a JSON error that echoes the Authorization
 *                    header (as some APIs echo the key they refused)
 *   /ra-secs         429 Retry-After: 1 the first time, then 200
 *   /ra-date         429 Retry-After: <HTTP date 2 s ahead>, then 200
 *   /ra-long         429 Retry-After: 3600, always
 *   /flaky500        500 twice, then 200
 *   /flaky503        503 once, then 200
 *   /always500       500
 *   /always503       503 (no Retry-After)
 *   /hang            reads the request, never answers
 *   /trickle         200, Content-Length 100, one byte a second
 *   /endless         200 without length, bytes until the client leaves
 *   /big-cl          200 announcing Content-Length 100000000, then hangs
 *   /slow            200 after 300 ms (concurrency is measured here)
 *   /redirect-other  302 to http://127.0.0.2:<port2>/landing
 *   /redirect-same   302 to /landing
 *   /redirect-ext    302 to http://example.invalid/landing
 *   /redirect-loop   302 to /redirect-loop
 *   /landing         200 "landed"
 *   anything else    404
 */
#ifndef AIGTATT_TEST_FAKE_SERVER_H
#define AIGTATT_TEST_FAKE_SERVER_H

typedef struct fake_server fake_server;

/** Starts listening on 127.0.0.1 and 127.0.0.2 (ephemeral ports); NULL on
 *  failure. */
fake_server *fake_start(void);
/** Closes every connection, joins every thread, frees. */
void fake_stop(fake_server *fs);
/** Port on 127.0.0.1 (which = 0) or 127.0.0.2 (which = 1). */
int fake_port(const fake_server *fs, int which);
/** Requests seen for `path` so far. */
int fake_count(fake_server *fs, const char *path);
/** Of those, how many carried an Authorization or X-Api-Key header. */
int fake_auth_count(fake_server *fs, const char *path);
/** Most /slow requests being served at the same time. */
int fake_max_concurrent(fake_server *fs);

#endif
