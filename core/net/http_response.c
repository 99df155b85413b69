/* The response object handed to plugins. */
#include "net/http_internal.h"

#include <stdlib.h>
#include <strings.h>

#include "net/http.h"

/* The host's response: the public part first, so the plugin's pointer is
 * also ours. */
typedef struct net_response {
    aigtatt_http_response pub;
    char *body;
    char *url;
    char **hnames;
    char **hvalues;
    size_t hcount;
} net_response;

const char *aigtatt_http_find_header(char **names, char **values, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (!strcasecmp(names[i], name))
            return values[i];
    return NULL;
}

aigtatt_http_response *aigtatt_http_response_take(aigtatt_http_xfer *x, char *url, int retries, int redirects,
                                                  double elapsed_s)
{
    net_response *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (!x->body_out && !(x->body_out = calloc(1, 1))) {
        free(r);
        return NULL;
    }
    r->pub.struct_size = sizeof r->pub;
    r->pub.status = (int)x->status;
    r->body = x->body_out;
    r->pub.body = r->body;
    r->pub.body_len = x->body_out_len;
    r->pub.retries_made = retries;
    r->pub.redirects_made = redirects;
    r->pub.elapsed_s = elapsed_s;
    r->url = url;
    r->pub.url = url;
    r->hnames = x->hnames;
    r->hvalues = x->hvalues;
    r->hcount = x->hcount;
    x->body_out = NULL;
    x->body_out_len = x->body_out_cap = 0;
    x->hnames = x->hvalues = NULL;
    x->hcount = x->hcap = 0;
    return &r->pub;
}

void aigtatt_http_response_free(aigtatt_http_response *resp)
{
    net_response *r = (net_response *)resp;
    if (!r)
        return;
    for (size_t i = 0; i < r->hcount; i++) {
        free(r->hnames[i]);
        free(r->hvalues[i]);
    }
    free(r->hnames);
    free(r->hvalues);
    free(r->body);
    free(r->url);
    free(r);
}

const char *aigtatt_http_header_get(const aigtatt_http_response *resp, const char *name)
{
    const net_response *r = (const net_response *)resp;
    if (!r || !name)
        return NULL;
    return aigtatt_http_find_header(r->hnames, r->hvalues, r->hcount, name);
}
