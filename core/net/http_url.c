/* URL checks with curl's own parser, so that what we check is exactly what
 * curl will connect to (no second, subtly different URL parser). */
#include "net/http.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/secret.h"
#include "util/error.h"

static CURLU *parse(const char *url)
{
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

static char *part(CURLU *u, CURLUPart what, unsigned flags)
{
    char *s = NULL;
    if (curl_url_get(u, what, &s, flags) != CURLUE_OK)
        return NULL;
    return s;
}

int aigtatt_http_host_is_loopback(const char *host)
{
    if (!host)
        return 0;
    char buf[64];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (n && buf[n - 1] == '.') /* "localhost." is still localhost */
        buf[--n] = '\0';
    if (!strcasecmp(buf, "localhost"))
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, buf, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

/* Errors name the URL without its query: signed download links and some
 * APIs put tokens there. */
static int refuse(const char *url, const char *why)
{
    char *shown = aigtatt_http_url_for_log(url);
    char *msg = NULL;
    size_t len = strlen(shown ? shown : "") + strlen(why) + 16;
    if (shown && (msg = malloc(len)))
        snprintf(msg, len, "%s: %s", shown, why);
    char *red = aigtatt_redact_dup(msg ? msg : why);
    aigtatt_set_error("%s", red ? red : why);
    free(red);
    free(msg);
    free(shown);
    return AIGTATT_ERR_INVALID;
}

int aigtatt_http_check_url(const char *url, int allow_http)
{
    if (!url || !url[0])
        return refuse("(none)", "no URL given");
    CURLU *u = parse(url);
    if (!u)
        return refuse(url, "not a valid absolute URL");
    int rc = AIGTATT_ERR_INVALID;
    char *scheme = part(u, CURLUPART_SCHEME, 0);
    char *host = part(u, CURLUPART_HOST, 0);
    char *user = part(u, CURLUPART_USER, 0);
    char *pass = part(u, CURLUPART_PASSWORD, 0);
    if (!scheme || !host || !host[0]) {
        rc = refuse(url, "not a valid absolute URL");
        goto done;
    }
    if (user || pass) {
        /* Credentials in a URL end up in logs and caches; use a header. */
        rc = refuse(url, "URLs with user:password are refused; send credentials in a header");
        goto done;
    }
    if (!strcasecmp(scheme, "https")) {
        rc = AIGTATT_OK;
    } else if (!strcasecmp(scheme, "http")) {
        if (allow_http == AIGTATT_HTTP_ALLOW_ANY_HOST)
            rc = AIGTATT_OK;
        else if (allow_http == AIGTATT_HTTP_ALLOW_LOOPBACK && aigtatt_http_host_is_loopback(host))
            rc = AIGTATT_OK;
        else if (allow_http == AIGTATT_HTTP_ALLOW_LOOPBACK)
            rc = refuse(url, "plain http:// is allowed only to localhost/127.0.0.1/::1 here; "
                             "use https:// or allow http to this host explicitly");
        else
            rc = refuse(url, "plain http:// is refused (keys and data would travel unencrypted); "
                             "use https://, or allow http explicitly for a local server");
    } else {
        rc = refuse(url, "only https:// (and explicitly allowed http://) URLs are supported");
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return rc;
}

int aigtatt_http_same_origin(const char *a, const char *b)
{
    CURLU *ua = parse(a), *ub = parse(b);
    int same = 0;
    char *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL, *pa = NULL, *pb = NULL;
    if (!ua || !ub)
        goto done;
    sa = part(ua, CURLUPART_SCHEME, 0);
    sb = part(ub, CURLUPART_SCHEME, 0);
    ha = part(ua, CURLUPART_HOST, 0);
    hb = part(ub, CURLUPART_HOST, 0);
    pa = part(ua, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    pb = part(ub, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    same = sa && sb && ha && hb && pa && pb && !strcasecmp(sa, sb) && !strcasecmp(ha, hb) &&
           !strcmp(pa, pb);
done:
    curl_free(sa);
    curl_free(sb);
    curl_free(ha);
    curl_free(hb);
    curl_free(pa);
    curl_free(pb);
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

char *aigtatt_http_resolve(const char *base, const char *location)
{
    CURLU *u = parse(base);
    if (!u)
        return NULL;
    char *out = NULL;
    /* With a URL already in the handle, curl resolves a relative one
     * against it (RFC 3986), which is what Location needs. */
    if (curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK) {
        char *s = part(u, CURLUPART_URL, 0);
        if (s)
            out = strdup(s);
        curl_free(s);
    }
    curl_url_cleanup(u);
    return out;
}

char *aigtatt_http_url_for_log(const char *url)
{
    CURLU *u = url ? parse(url) : NULL;
    char *out = NULL;
    if (!u)
        return strdup("<unparsable URL>");
    char *scheme = part(u, CURLUPART_SCHEME, 0);
    char *host = part(u, CURLUPART_HOST, 0);
    char *port = part(u, CURLUPART_PORT, 0);
    char *path = part(u, CURLUPART_PATH, 0);
    char *query = part(u, CURLUPART_QUERY, 0);
    size_t len = 32 + (scheme ? strlen(scheme) : 0) + (host ? strlen(host) : 0) +
                 (port ? strlen(port) : 0) + (path ? strlen(path) : 0);
    out = malloc(len);
    if (out)
        snprintf(out, len, "%s://%s%s%s%s%s", scheme ? scheme : "?", host ? host : "?",
                 port ? ":" : "", port ? port : "", path ? path : "/", query ? "?..." : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return out;
}
