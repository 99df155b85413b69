/* TLS verification is always on: a server with a self-signed certificate
 * is refused (and not retried), and accepted once its certificate is named
 * as the CA bundle (AIGTATT_CA_BUNDLE), which proves the check is real.
 * The server is tls_server.py run by $AIGTATT_PYTHON (default python3);
 * the certificate is made with the openssl command. Either missing skips. */
#include <criterion/criterion.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/http.h"
#include "util/error.h"

#ifndef NET_TEST_DIR
#define NET_TEST_DIR "."
#endif

static char dir[] = "/tmp/aigtatt-tls-XXXXXX";
static pid_t server_pid = -1;
static int server_port;
static int server_out = -1; /* kept open: closing it could kill the server */

static void make_cert(void)
{
    cr_assert_not_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             dir, dir);
    if (system(cmd) != 0)
        cr_skip_test("the openssl command is not available");
}

static void start_server(void)
{
    const char *py = getenv("AIGTATT_PYTHON");
    if (!py || !py[0])
        py = "python3";
    char script[512], cert[128], key[128];
    snprintf(script, sizeof script, "%s/tls_server.py", NET_TEST_DIR);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    server_pid = fork();
    cr_assert_geq(server_pid, 0);
    if (server_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp(py, py, script, cert, key, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    char line[32] = "";
    ssize_t n = 0;
    if (poll(&p, 1, 10000) > 0)
        n = read(fds[0], line, sizeof line - 1);
    server_out = fds[0];
    if (n > 0)
        line[n] = '\0';
    server_port = atoi(line);
    if (server_port <= 0)
        cr_skip_test("could not start %s %s", py, script);
}

static void teardown(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    if (server_out >= 0)
        close(server_out);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

Test(tls, self_signed_refused_until_trusted, .fini = teardown, .timeout = 30)
{
    make_cert();
    start_server();
    char u[128];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/json", server_port);
    aigtatt_http_request r = {.struct_size = sizeof r, .url = u, .timeout_ms = 10000,
                              .backoff_base_ms = 20, .jitter_seed = 1};
    aigtatt_http_response *resp = NULL;
    aigtatt_http_stats before, after;
    aigtatt_http_stats_get(&before);
    cr_assert_eq(aigtatt_http_request_do(&r, &resp), AIGTATT_ERR_IO);
    aigtatt_http_stats_get(&after);
    cr_assert_null(resp);
    cr_assert(strstr(aigtatt_last_error(), "certificate"), "%s", aigtatt_last_error());
    cr_assert_eq(after.retries, before.retries, "a bad certificate is not transient");

    char cert[128];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    setenv("AIGTATT_CA_BUNDLE", cert, 1);
    cr_assert_eq(aigtatt_http_request_do(&r, &resp), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(resp->status, 200);
    cr_assert_str_eq(resp->body, "{\"ok\":true}");
    aigtatt_http_response_free(resp);
}
