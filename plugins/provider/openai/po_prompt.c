/* prompt.openai: N unique tattoo prompts in the seed study's structure
 * ("In the style of TOK, a unique, intricate tattoo on the forearm
 * describing ...") from a chat model: OpenAI, or any server speaking its
 * chat completions API (llama.cpp server, Ollama, vLLM) through base_url.
 *
 * Batches ask for what is still missing with a JSON-schema response
 * format; a server that rejects it (HTTP 400 naming response_format) is
 * asked again with {"type":"json_object"} and then with plain JSON
 * prompting. Every prompt is checked here (structure, length, text),
 * duplicates are dropped, and batches continue until N are unique. Each
 * batch's answer is kept in the resume store, so a rerun replays the same
 * conversation without paying for it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "po.h"

enum { MODE_SCHEMA, MODE_OBJECT, MODE_TEXT };
static const char *const mode_names[] = {"json_schema", "json_object", "text"};

typedef struct po_state {
    pv_api api;
    const aigtatt_params *p;
    char prefix[1024];     /* the structure every prompt starts with */
    const char *trigger;
    size_t count, min_chars, max_chars;
    char **texts;          /* accepted, count at most */
    char **keys;           /* their de-duplication keys */
    size_t n;
    pv_store store;
    json_t *batches;       /* per batch: ids, usage, counts */
    json_int_t tok_in, tok_out, tok_total;
    size_t invalid, dups, from_store, asked;
    char model_seen[128];
} po_state;

/* Expands {trigger} in the prefix parameter. */
static int expand_prefix(const char *tpl, const char *trigger, char *out, size_t size)
{
    size_t o = 0;
    for (const char *s = tpl; *s;) {
        if (!strncmp(s, "{trigger}", 9)) {
            size_t n = strlen(trigger);
            if (o + n + 1 >= size)
                return -1;
            memcpy(out + o, trigger, n);
            o += n;
            s += 9;
        } else {
            if (o + 2 >= size)
                return -1;
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    return 0;
}

static int po_prompt_check(const aigtatt_params *p)
{
    const char *tpl = pv_host->param_string(p, "prefix");
    const char *trig = pv_host->param_string(p, "trigger");
    if (strstr(tpl, "{trigger}") && !*trig) {
        pv_host->set_error("prefix uses {trigger} but trigger is empty");
        return AIGTATT_ERR_INVALID;
    }
    const char *open = strchr(tpl, '{');
    while (open) {
        if (strncmp(open, "{trigger}", 9) != 0) {
            pv_error("prefix: unknown placeholder at '%.20s' (only {trigger} is known)", open);
            return AIGTATT_ERR_INVALID;
        }
        open = strchr(open + 1, '{');
    }
    if (pv_host->param_int(p, "min_chars") > pv_host->param_int(p, "max_chars")) {
        pv_host->set_error("min_chars is larger than max_chars");
        return AIGTATT_ERR_INVALID;
    }
    char exp[1024];
    if (expand_prefix(tpl, trig, exp, sizeof exp) || strlen(exp) + 10 > (size_t)pv_host->param_int(p, "max_chars")) {
        pv_host->set_error("prefix leaves no room below max_chars");
        return AIGTATT_ERR_INVALID;
    }
    const char *idp = pv_host->param_string(p, "id_prefix");
    for (const char *s = idp; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') {
            pv_error("id_prefix '%s' may hold only letters, digits, '_' and '-'", idp);
            return AIGTATT_ERR_INVALID;
        }
    return AIGTATT_OK;
}

/* ---- validation ----------------------------------------------------------- */

/* 0 for valid UTF-8 without control characters. */
static int utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (n < 0 || (n == 0 && (c < 0x20 || c == 0x7F)))
            return -1;
        s++;
        for (int k = 0; k < n; k++, s++)
            if ((*s & 0xC0) != 0x80)
                return -1;
    }
    return 0;
}

/* Trims, collapses blanks, drops list markers and wrapping quotes. */
static char *tidy(const char *in)
{
    while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
        in++;
    if ((*in == '-' || *in == '*') && in[1] == ' ')
        in += 2;
    else if (isdigit((unsigned char)*in)) {
        const char *d = in;
        while (isdigit((unsigned char)*d))
            d++;
        if ((*d == '.' || *d == ')') && d[1] == ' ')
            in = d + 2;
    }
    size_t len = strlen(in);
    char *o = malloc(len + 1);
    if (!o)
        return NULL;
    size_t w = 0;
    int space = 0;
    for (const char *s = in; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            space = 1;
            continue;
        }
        if (space && w)
            o[w++] = ' ';
        space = 0;
        o[w++] = *s;
    }
    o[w] = '\0';
    if (w >= 2 && o[0] == '"' && o[w - 1] == '"') {
        memmove(o, o + 1, w - 2);
        o[w - 2] = '\0';
    }
    return o;
}

/* Letters and digits only, lower-cased: "A wolf." and "a wolf" collide. */
static char *dedup_key(const char *s)
{
    char *k = malloc(strlen(s) + 1);
    if (!k)
        return NULL;
    size_t w = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80 || isalnum(c))
            k[w++] = (char)(c < 0x80 ? tolower(c) : c);
    }
    k[w] = '\0';
    return k;
}

/* Why a prompt is refused, or NULL. */
static const char *invalid_reason(const po_state *st, const char *t)
{
    size_t len = strlen(t);
    if (utf8_ok((const unsigned char *)t) != 0)
        return "not UTF-8 text";
    if (len < st->min_chars)
        return "too short";
    if (len > st->max_chars)
        return "too long";
    if (st->prefix[0]) {
        size_t pl = strlen(st->prefix);
        if (strncasecmp(t, st->prefix, pl) != 0)
            return "does not start with the prefix";
        if (len < pl + 8)
            return "nothing after the prefix";
    } else if (st->trigger && *st->trigger && !strstr(t, st->trigger)) {
        return "lacks the trigger token";
    }
    return NULL;
}

/* Offers one candidate; returns 1 accepted, 0 refused, -1 OOM. */
static int offer(po_state *st, const char *raw, size_t *acc, size_t *inv, size_t *dup)
{
    char *t = tidy(raw);
    if (!t)
        return -1;
    const char *why = invalid_reason(st, t);
    if (why) {
        (*inv)++;
        pv_host->log(AIGTATT_LOG_DEBUG, "refused prompt (%s): %.120s", why, t);
        free(t);
        return 0;
    }
    char *k = dedup_key(t);
    if (!k) {
        free(t);
        return -1;
    }
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->keys[i], k)) {
            (*dup)++;
            free(t);
            free(k);
            return 0;
        }
    if (st->n == st->count) {
        free(t);
        free(k);
        return 0;
    }
    /* In the exact words of the structure, whatever case the model used. */
    if (st->prefix[0])
        memcpy(t, st->prefix, strlen(st->prefix));
    st->texts[st->n] = t;
    st->keys[st->n++] = k;
    (*acc)++;
    return 1;
}

/* The array of prompts in a model's answer: {"prompts":[...]}, any array
 * in an object, or a bare array; code fences and chatter around it are
 * skipped. */
static json_t *extract_prompts(const char *content)
{
    const char *o = strchr(content, '{'), *a = strchr(content, '[');
    const char *start = o && (!a || o < a) ? o : a;
    if (!start)
        return NULL;
    json_t *j = json_loads(start, JSON_DISABLE_EOF_CHECK, NULL);
    if (!j && start == o && a) /* "{" inside chatter before the array */
        j = json_loads(a, JSON_DISABLE_EOF_CHECK, NULL);
    if (json_is_array(j))
        return j;
    if (json_is_object(j)) {
        json_t *arr = json_object_get(j, "prompts");
        if (!json_is_array(arr)) {
            const char *k;
            json_t *v;
            arr = NULL;
            json_object_foreach(j, k, v) if (json_is_array(v) && !arr) arr = v;
        }
        if (arr) {
            json_incref(arr);
            json_decref(j);
            return arr;
        }
    }
    json_decref(j);
    return NULL;
}

/* ---- requests ------------------------------------------------------------ */

static const char default_system[] =
    "You write prompts for a text-to-image model that draws tattoos. Every prompt is one sentence that starts "
    "exactly with \"%s\" and goes on to describe one tattoo design concretely: its subject, style (for example "
    "blackwork, fine line, dotwork, neo-traditional, Japanese, watercolour, geometric), composition, details and "
    "the idea or feeling it expresses. Every prompt describes a different design. Answer with JSON only, in the "
    "form {\"prompts\": [\"...\", \"...\"]}.";

static json_t *build_body(po_state *st, int mode, size_t want, uint64_t seed)
{
    const aigtatt_params *p = st->p;
    const char *custom = pv_host->param_string(p, "system_prompt");
    const char *extra = pv_host->param_string(p, "instructions");
    size_t avoid = (size_t)pv_host->param_int(p, "avoid_recent");
    size_t cap = 1024 + strlen(st->prefix) + sizeof default_system + (custom ? strlen(custom) : 0) +
                 (extra ? strlen(extra) : 0) + avoid * 512;
    char *sys = malloc(cap), *user = malloc(cap);
    if (!sys || !user) {
        free(sys);
        free(user);
        return NULL;
    }
    if (custom && *custom)
        snprintf(sys, cap, "%s", custom);
    else
        snprintf(sys, cap, default_system, st->prefix[0] ? st->prefix : "In the style of");
    size_t len = 0;
    len += (size_t)snprintf(user + len, cap - len, "Write exactly %zu new tattoo prompts as JSON.", want);
    if (extra && *extra)
        len += (size_t)snprintf(user + len, cap - len, " %s", extra);
    if (avoid && st->n) {
        len += (size_t)snprintf(user + len, cap - len, "\nDo not repeat or closely paraphrase these earlier ones:");
        size_t from = st->n > avoid ? st->n - avoid : 0;
        size_t pl = strlen(st->prefix);
        for (size_t i = from; i < st->n && len + 512 < cap; i++)
            len += (size_t)snprintf(user + len, cap - len, "\n- %.500s", st->texts[i] + pl);
    }
    json_t *body = json_pack("{ss s[{ssss}{ssss}] sf}", "model", pv_host->param_string(p, "model"), "messages",
                             "role", "system", "content", sys, "role", "user", "content", user, "temperature",
                             pv_host->param_float(p, "temperature"));
    free(user);
    free(sys);
    if (!body)
        return NULL;
    if (pv_host->param_bool(p, "send_seed"))
        json_object_set_new(body, "seed", json_integer((json_int_t)(seed & 0x7FFFFFFF)));
    int64_t mt = pv_host->param_int(p, "max_tokens");
    if (mt > 0)
        json_object_set_new(body, "max_tokens", json_integer(mt));
    if (mode == MODE_SCHEMA) {
        json_t *rf = json_pack("{ss s{ss sb s{ss s{s{ss s{ss}}} s[s] sb}}}", "type", "json_schema", "json_schema",
                               "name", "tattoo_prompts", "strict", 1, "schema", "type", "object", "properties",
                               "prompts", "type", "array", "items", "type", "string", "required", "prompts",
                               "additionalProperties", 0);
        json_object_set_new(body, "response_format", rf);
    } else if (mode == MODE_OBJECT) {
        json_object_set_new(body, "response_format", json_pack("{ss}", "type", "json_object"));
    }
    return body;
}

/* Non-zero when a 400 answer says the response format is what the server
 * cannot do. */
static int format_refused(const aigtatt_http_response *r)
{
    if (!r || r->status != 400)
        return 0;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *param = json_is_object(e) ? pv_jstr(e, "param") : NULL;
    const char *msg = json_is_object(e) ? pv_jstr(e, "message") : json_is_string(e) ? json_string_value(e) : NULL;
    if (!msg)
        msg = pv_jstr(j, "detail");
    int yes = (param && !strcmp(param, "response_format")) ||
              (msg && (strstr(msg, "response_format") || strstr(msg, "json_schema") || strstr(msg, "json_object")));
    if (!j && strstr(r->body, "response_format"))
        yes = 1;
    json_decref(j);
    return yes;
}

/* Whether the store holds an answer under `key`. */
static int stored(po_state *st, const char *key)
{
    json_t *j = pv_store_get(&st->store, key, ".json", 0);
    int yes = j && pv_jstr(j, "content");
    json_decref(j);
    return yes;
}

/* One batch's answer: from the store, or asked. *answer holds content,
 * model, id, request_id, usage, finish_reason. Returns AIGTATT_OK, a
 * failure status, or 1 when the server refused the response format and
 * `may_fall_back` (the caller steps down a mode). */
static int ask(po_state *st, const char *endpoint, json_t *body, const char *key, json_t **answer, int *from_store,
               int may_fall_back)
{
    *answer = NULL;
    *from_store = 0;
    json_t *cached = pv_store_get(&st->store, key, ".json", 0);
    if (cached && pv_jstr(cached, "content")) {
        *answer = cached;
        *from_store = 1;
        return AIGTATT_OK;
    }
    json_decref(cached);
    char *text = json_dumps(body, PV_DUMP);
    if (!text) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    aigtatt_http_header h[2];
    size_t nh = po_org_headers(st->p, h);
    pv_call c = {.method = "POST", .url = endpoint, .content_type = "application/json", .body = text,
                 .body_len = strlen(text), .headers = h, .n_headers = nh, .auth = 1,
                 .retry_post = AIGTATT_HTTP_RETRY_POST_IF_NOT_SENT, .hold_s = st->api.timeout_ms / 1000,
                 .what = "chat completion"};
    aigtatt_http_response *r = NULL;
    int status;
    pv_verdict v;
    int rc = pv_request(&st->api, &c, &r, &status, &v);
    free(text);
    st->asked++;
    if (rc != AIGTATT_OK) {
        int refused = may_fall_back && format_refused(r);
        pv_host->http_response_free(r);
        return refused ? 1 : rc;
    }
    json_t *j = pv_json_body(r, "chat completion");
    const char *reqid = pv_host->http_header(r, "x-request-id");
    if (!j) {
        pv_host->http_response_free(r);
        return AIGTATT_ERR_FORMAT;
    }
    json_t *choice = json_array_get(json_object_get(j, "choices"), 0);
    json_t *msg = json_object_get(choice, "message");
    const char *content = pv_jstr(msg, "content");
    const char *refusal = pv_jstr(msg, "refusal");
    json_t *ans = json_object();
    json_object_set_new(ans, "content", json_string(content ? content : ""));
    if (refusal)
        json_object_set_new(ans, "refusal", json_string(refusal));
    if (pv_jstr(j, "model"))
        json_object_set_new(ans, "model", json_string(pv_jstr(j, "model")));
    if (pv_jstr(j, "id"))
        json_object_set_new(ans, "id", json_string(pv_jstr(j, "id")));
    if (reqid)
        json_object_set_new(ans, "request_id", json_string(reqid));
    if (pv_jstr(choice, "finish_reason"))
        json_object_set_new(ans, "finish_reason", json_string(pv_jstr(choice, "finish_reason")));
    if (json_is_object(json_object_get(j, "usage")))
        json_object_set(ans, "usage", json_object_get(j, "usage"));
    if (pv_jstr(j, "system_fingerprint"))
        json_object_set_new(ans, "system_fingerprint", json_string(pv_jstr(j, "system_fingerprint")));
    /* choice, content and refusal point into j: decide before freeing it */
    int usable = choice && (content || refusal);
    json_decref(j);
    pv_host->http_response_free(r);
    if (!usable) {
        json_decref(ans);
        pv_host->set_error("chat completion: the answer has no choices[0].message.content");
        return AIGTATT_ERR_FORMAT;
    }
    /* Refusals and empty answers are kept too: asking again would pay
     * again, and a different answer would change every later batch's
     * request (its count, its avoid list), so a rerun would no longer
     * repeat the run. `resume: false` asks anew. */
    rc = pv_store_put(&st->store, key, ".json", ans);
    if (rc) {
        json_decref(ans);
        return rc;
    }
    *answer = ans;
    return AIGTATT_OK;
}

static void add_usage(po_state *st, const json_t *usage)
{
    json_t *a = json_object_get(usage, "prompt_tokens"), *b = json_object_get(usage, "completion_tokens"),
           *c = json_object_get(usage, "total_tokens");
    if (json_is_integer(a))
        st->tok_in += json_integer_value(a);
    if (json_is_integer(b))
        st->tok_out += json_integer_value(b);
    if (json_is_integer(c))
        st->tok_total += json_integer_value(c);
}

static int write_outputs(po_state *st, aigtatt_run *run, json_t *summary, const char *line)
{
    const char *idp = pv_host->param_string(st->p, "id_prefix");
    const char *dir = pv_host->run_output_dir(run, "prompts");
    size_t cap = 4096, len = 0;
    char *list = malloc(cap);
    if (!list) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    list[0] = '\0';
    int rc = AIGTATT_OK;
    for (size_t i = 0; i < st->n && rc == AIGTATT_OK; i++) {
        char id[64];
        pv_identity(id, sizeof id, idp, i);
        json_t *meta = json_object_get(json_object_get(st->batches, "_by_prompt"), id);
        char *mj = meta ? json_dumps(meta, PV_DUMP) : NULL;
        aigtatt_record rec = AIGTATT_RECORD_INIT;
        rec.id = id;
        rec.identity = id;
        rec.role = "prompt";
        rec.text = st->texts[i];
        rec.meta_json = mj;
        rc = pv_host->output_add(run, "prompts", &rec);
        free(mj);
        size_t need = len + strlen(id) + strlen(st->texts[i]) + 3;
        if (need > cap) {
            cap = need * 2;
            char *g = realloc(list, cap);
            if (!g) {
                free(list);
                pv_host->set_error("out of memory");
                return AIGTATT_ERR_NOMEM;
            }
            list = g;
        }
        len += (size_t)snprintf(list + len, cap - len, "%s\t%s\n", id, st->texts[i]);
    }
    char path[4096];
    if (rc == AIGTATT_OK) {
        snprintf(path, sizeof path, "%s/prompts.txt", dir);
        rc = pv_host->write_file(path, list, len);
    }
    free(list);
    if (rc)
        return rc;
    /* What was asked and what it cost, for people and audits. */
    json_t *sum = json_pack("{ss ss sI sI sI sI sI sI sI sO}", "model", pv_host->param_string(st->p, "model"),
                            "model_reported", st->model_seen, "prompts", (json_int_t)st->n, "requests",
                            (json_int_t)st->asked, "batches_from_store", (json_int_t)st->from_store,
                            "prompt_tokens", st->tok_in, "completion_tokens", st->tok_out, "total_tokens",
                            st->tok_total, "refused_invalid", (json_int_t)st->invalid, "batches",
                            json_object_get(st->batches, "_list"));
    if (!sum) {
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    json_object_set_new(sum, "refused_duplicates", json_integer((json_int_t)st->dups));
    rc = pv_summary_write(dir, sum, summary, line);
    json_decref(sum);
    return rc;
}

static int po_prompt_run(aigtatt_run *run)
{
    const aigtatt_params *p = pv_host->run_params(run);
    int rc = po_prompt_check(p);
    if (rc)
        return rc;
    po_state st;
    memset(&st, 0, sizeof st);
    st.p = p;
    st.trigger = pv_host->param_string(p, "trigger");
    st.count = (size_t)pv_host->param_int(p, "count");
    st.min_chars = (size_t)pv_host->param_int(p, "min_chars");
    st.max_chars = (size_t)pv_host->param_int(p, "max_chars");
    expand_prefix(pv_host->param_string(p, "prefix"), st.trigger, st.prefix, sizeof st.prefix);
    /* the prefix is compared without its trailing blanks */
    for (size_t l = strlen(st.prefix); l && st.prefix[l - 1] == ' '; l--)
        st.prefix[l - 1] = '\0';
    st.texts = calloc(st.count, sizeof *st.texts);
    st.keys = calloc(st.count, sizeof *st.keys);
    st.batches = json_pack("{s[] s{}}", "_list", "_by_prompt");
    if (!st.texts || !st.keys || !st.batches) {
        free(st.texts);
        free(st.keys);
        json_decref(st.batches);
        pv_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t batch_size = (size_t)pv_host->param_int(p, "batch_size");
    size_t max_req = (size_t)pv_host->param_int(p, "max_requests");
    if (max_req == 0)
        max_req = 2 * ((st.count + batch_size - 1) / batch_size) + 3;
    const char *fmt = pv_host->param_string(p, "response_format");
    int mode = !strcmp(fmt, "json_object") ? MODE_OBJECT : !strcmp(fmt, "text") ? MODE_TEXT : MODE_SCHEMA;
    int fall_back = !strcmp(fmt, "auto");
    char endpoint[2048];
    uint64_t seed = pv_host->run_seed(run);
    aigtatt_progress *pr = NULL;
    if ((rc = pv_store_open(&st.store, run, "prompt.openai", "prompts")))
        goto done;
    if ((rc = pv_api_init(&st.api, p, "Bearer")))
        goto done;
    snprintf(endpoint, sizeof endpoint, "%s/chat/completions", st.api.base);
    pr = pv_host->progress_begin("prompts", st.count);
    size_t batch = 0;
    while (st.n < st.count) {
        if (pv_host->cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            break;
        }
        if (batch >= max_req) {
            pv_host->set_error("only %zu unique valid prompts of the %zu asked for after %zu batches (%zu refused as "
                               "invalid, %zu duplicates); raise max_requests (finished batches are kept), lower "
                               "count, or loosen the prefix", st.n, st.count, batch, st.invalid, st.dups);
            rc = AIGTATT_ERR_LIMIT;
            break;
        }
        size_t want = st.count - st.n < batch_size ? st.count - st.n : batch_size;
        json_t *body = build_body(&st, mode, want, pv_host->seed_derive(seed, "batch", batch));
        if (!body) {
            pv_host->set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        char key[65];
        json_t *unit = json_pack("{sO}", "request", body);
        pv_key("prompt.openai", endpoint, unit, key);
        json_decref(unit);
        /* A server that refused this mode in an earlier run has its answer
         * stored under a later mode's request: take it from there instead
         * of asking again just to be refused (a store-only rerun needs no
         * key and no server). */
        for (int m = mode + 1; fall_back && m <= MODE_TEXT && !stored(&st, key); m++) {
            json_t *b2 = build_body(&st, m, want, pv_host->seed_derive(seed, "batch", batch));
            json_t *u2 = b2 ? json_pack("{sO}", "request", b2) : NULL;
            char k2[65];
            if (u2)
                pv_key("prompt.openai", endpoint, u2, k2);
            json_decref(u2);
            if (u2 && stored(&st, k2)) {
                json_decref(body);
                body = b2;
                memcpy(key, k2, sizeof key);
                mode = m;
                break;
            }
            json_decref(b2);
        }
        json_t *ans = NULL;
        int cached = 0;
        rc = ask(&st, endpoint, body, key, &ans, &cached, fall_back && mode != MODE_TEXT);
        json_decref(body);
        if (rc == 1) {
            char why[512];
            snprintf(why, sizeof why, "%s", pv_host->last_error());
            mode++;
            pv_host->log(AIGTATT_LOG_WARN, "the server refused response_format %s; asking with %s instead (%s)",
                         mode_names[mode - 1], mode_names[mode], why);
            rc = AIGTATT_OK;
            continue;
        }
        if (rc)
            break;
        st.from_store += cached;
        const char *content = pv_jstr(ans, "content");
        const char *finish = pv_jstr(ans, "finish_reason");
        size_t acc = 0, inv = 0, dup = 0, before = st.n;
        json_t *arr = content ? extract_prompts(content) : NULL;
        if (!arr) {
            pv_host->log(AIGTATT_LOG_WARN, "batch %zu: the model's answer holds no JSON list of prompts%s%s%s", batch,
                         pv_jstr(ans, "refusal") ? " (refusal: " : "",
                         pv_jstr(ans, "refusal") ? pv_jstr(ans, "refusal") : "", pv_jstr(ans, "refusal") ? ")" : "");
        }
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            json_t *it = json_array_get(arr, i);
            const char *s = json_is_string(it) ? json_string_value(it) : json_is_object(it) ? pv_jstr(it, "prompt") : NULL;
            if (!s) {
                inv++;
                continue;
            }
            if (offer(&st, s, &acc, &inv, &dup) < 0) {
                rc = AIGTATT_ERR_NOMEM;
                pv_host->set_error("out of memory");
                break;
            }
        }
        json_decref(arr);
        if (finish && !strcmp(finish, "length"))
            pv_host->log(AIGTATT_LOG_WARN, "batch %zu was cut at the token limit; lower batch_size or raise max_tokens",
                         batch);
        st.invalid += inv;
        st.dups += dup;
        /* answers from the resume store cost nothing now: their usage
         * stays in the batch record (from_store) but not in the totals */
        if (!cached)
            add_usage(&st, json_object_get(ans, "usage"));
        if (pv_jstr(ans, "model"))
            snprintf(st.model_seen, sizeof st.model_seen, "%s", pv_jstr(ans, "model"));
        json_t *b = json_pack("{sI ss ss? ss? ss? sO? sI sI sI sb ss}", "batch", (json_int_t)batch, "store_key", key,
                              "response_id", pv_jstr(ans, "id"), "request_id", pv_jstr(ans, "request_id"), "model",
                              pv_jstr(ans, "model"), "usage", json_object_get(ans, "usage"), "accepted",
                              (json_int_t)acc, "refused_invalid", (json_int_t)inv, "refused_duplicates",
                              (json_int_t)dup, "from_store", cached, "response_format", mode_names[mode]);
        if (b)
            json_array_append_new(json_object_get(st.batches, "_list"), b);
        const char *idp = pv_host->param_string(p, "id_prefix");
        for (size_t i = before; i < st.n; i++) {
            char id[64];
            pv_identity(id, sizeof id, idp, i);
            json_t *m = json_pack("{ss ss? ss? ss? sI ss sO?}", "provider", "openai", "model",
                                  pv_jstr(ans, "model"), "response_id", pv_jstr(ans, "id"), "request_id",
                                  pv_jstr(ans, "request_id"), "batch", (json_int_t)batch, "response_format",
                                  mode_names[mode], "batch_usage", json_object_get(ans, "usage"));
            if (m)
                json_object_set_new(json_object_get(st.batches, "_by_prompt"), id, m);
        }
        pv_host->progress_add(pr, st.n - before, 0);
        json_decref(ans);
        batch++;
        if (rc)
            break;
    }
    pv_host->progress_end(pr);
    pr = NULL;
    {
        char stats[256], line[1536];
        pv_api_stats(&st.api, stats, sizeof stats);
        snprintf(line, sizeof line, "prompt.openai: %zu of %zu prompts (%zu batches from the resume store); %s; %zu "
                 "duplicates and %zu invalid refused; usage %lld prompt + %lld completion tokens%s%s",
                 st.n, st.count, st.from_store, stats, st.dups, st.invalid, (long long)st.tok_in,
                 (long long)st.tok_out, st.model_seen[0] ? " on " : "", st.model_seen);
        json_t *summary = pv_summary_new(&st.api, "prompt.openai", run);
        if (summary) {
            json_object_set_new(summary, "prompts", json_pack("{sI sI sI sI sI}", "wanted", (json_int_t)st.count,
                                                              "made", (json_int_t)st.n, "batches_from_store",
                                                              (json_int_t)st.from_store, "refused_duplicates",
                                                              (json_int_t)st.dups, "refused_invalid",
                                                              (json_int_t)st.invalid));
            json_object_set_new(summary, "usage", json_pack("{sI sI sI}", "prompt_tokens", st.tok_in,
                                                            "completion_tokens", st.tok_out, "total_tokens",
                                                            st.tok_total));
        }
        double pin = pv_price(p, "price_per_1m_input_tokens"), pout = pv_price(p, "price_per_1m_output_tokens");
        char basis[160];
        snprintf(basis, sizeof basis, "%lld + %lld tokens at $%g + $%g per 1M", (long long)st.tok_in,
                 (long long)st.tok_out, pin, pout);
        pv_cost_add(summary, line, sizeof line, pin > 0 || pout > 0,
                    (double)st.tok_in * pin / 1e6 + (double)st.tok_out * pout / 1e6, basis);
        pv_host->log(AIGTATT_LOG_INFO, "%s", line);
        if (rc == AIGTATT_OK)
            rc = summary ? write_outputs(&st, run, summary, line) : AIGTATT_ERR_NOMEM;
        json_decref(summary);
    }
done:
    for (size_t i = 0; i < st.n; i++) {
        free(st.texts[i]);
        free(st.keys[i]);
    }
    free(st.texts);
    free(st.keys);
    json_decref(st.batches);
    pv_store_close(&st.store);
    pv_api_free(&st.api);
    return rc;
}

static const aigtatt_param_desc po_prompt_params[] = {
    {.name = "count", .type = AIGTATT_PARAM_INT, .default_value = "50", .has_min = 1, .min = 1, .has_max = 1,
     .max = 100000, .doc = "How many unique prompts (identities) to make."},
    {.name = "model", .type = AIGTATT_PARAM_STRING, .default_value = "gpt-4o-mini",
     .doc = "Chat model (as the server names it: gpt-4o-mini, llama3.1:8b on Ollama, ...)."},
    {.name = "trigger", .type = AIGTATT_PARAM_STRING, .default_value = "TOK",
     .doc = "Trigger token of the fine-tuned image model, put into the prefix's {trigger}."},
    {.name = "prefix", .type = AIGTATT_PARAM_STRING,
     .default_value = "In the style of {trigger}, a unique, intricate tattoo on the forearm describing",
     .doc = "The structure: every prompt must start with this ({trigger} is replaced); '' checks only that "
            "the trigger appears."},
    {.name = "instructions", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "Extra guidance added to each request (themes, styles to favour or avoid)."},
    {.name = "system_prompt", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "Replaces the built-in system message ('' keeps it); keep asking for {\"prompts\": [...]} JSON."},
    {.name = "batch_size", .type = AIGTATT_PARAM_INT, .default_value = "25", .has_min = 1, .min = 1, .has_max = 1,
     .max = 200, .doc = "Prompts asked for per request."},
    {.name = "max_requests", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,
     .has_max = 1, .max = 100000,
     .doc = "Batches at most (0: twice the batches count needs, plus 3); the node fails when they do not "
            "give count unique prompts."},
    {.name = "avoid_recent", .type = AIGTATT_PARAM_INT, .default_value = "30", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1000,
     .doc = "The last N accepted prompts are listed in each request as ones not to repeat."},
    {.name = "temperature", .type = AIGTATT_PARAM_FLOAT, .default_value = "1.0", .has_min = 1, .min = 0,
     .has_max = 1, .max = 2, .doc = "Sampling temperature."},
    {.name = "max_tokens", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,
     .doc = "max_tokens of each request; 0 sends none (the server's limit)."},
    {.name = "send_seed", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Send a seed derived from the node seed with each request (best-effort determinism)."},
    {.name = "response_format", .type = AIGTATT_PARAM_ENUM, .default_value = "auto",
     .choices = "auto|json_schema|json_object|text",
     .doc = "auto asks for a JSON schema and steps down to json_object, then to plain JSON prompting, when the "
            "server answers 400 naming response_format; the others use one way only."},
    {.name = "min_chars", .type = AIGTATT_PARAM_INT, .default_value = "30", .has_min = 1, .min = 1,
     .doc = "Shorter prompts are refused."},
    {.name = "max_chars", .type = AIGTATT_PARAM_INT, .default_value = "400", .has_min = 1, .min = 10,
     .doc = "Longer prompts are refused (CLIP reads 77 tokens, about 300 characters)."},
    {.name = "id_prefix", .type = AIGTATT_PARAM_STRING, .default_value = "T",
     .doc = "Identity names are this prefix and a number of at least 4 digits: T0001, T0002, ..."},
    PO_ORG_PARAMS,
    PV_PRICE_TOKEN_PARAMS,
    PV_NET_PARAMS("https://api.openai.com/v1", "no", "OPENAI_API_KEY", "300"),
    PV_STORE_PARAMS,
    {.name = NULL},
};

static const aigtatt_port_desc po_prompt_out[] = {
    {.name = "prompts", .type = "prompts",
     .doc = "One record per identity (T0001...), role 'prompt', with model, response and request ids and batch in "
            "meta; prompts.txt and provider.json (per-batch ids and token usage) beside the manifest; provider.json also holds the summary (requests, retries, bytes, usage, cost)."},
    {.name = NULL},
};

static const aigtatt_node_vtable po_prompt_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = po_prompt_check,
    .run = po_prompt_run,
};

const aigtatt_component_desc po_prompt_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_PROMPT_SOURCE,
    .name = "prompt.openai",
    .version = "1.1.0",
    .summary = "Unique tattoo prompts from a chat model (OpenAI or a compatible server: llama.cpp, Ollama, vLLM)",
    .doc = "Asks a chat model for prompts in the seed study's structure ('In the style of TOK, a unique, intricate "
           "tattoo on the forearm describing ...') with a JSON-schema response format, falling back to json_object "
           "and plain JSON prompting on servers without schema support. Prompts are checked locally (prefix, "
           "length, UTF-8), de-duplicated, and batches continue until count are unique. Each batch's answer is "
           "kept in the resume store. Key: OPENAI_API_KEY (api_key_env: '' for local servers).",
    AIGTATT_PARAMS(po_prompt_params),
    AIGTATT_PORTS(NULL, po_prompt_out),
    .vtable = &po_prompt_vt,
};
