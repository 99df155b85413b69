/* prompt.template: N unique tattoo prompts from a seeded grammar.
 *
 * Subjects and styles are dealt from shuffled decks (a new shuffle per
 * round) rather than drawn independently, so 250 prompts cover every
 * subject several times before any subject repeats much: the identities
 * of a synthetic dataset should differ as much as the grammar allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pb.h"

#define PB_MAX_PROMPT 1024
#define PB_TRIES 2000

static const char *const pb_default_tpl =
    "In the style of {trigger}, {a} {adj1}, {adj2} {style} tattoo of {subject} {motif} on the {body} "
    "describing {theme}.";
static const char *const pb_default_tpl_plain =
    "{a} {adj1}, {adj2} {style} tattoo of {subject} {motif} on the {body} describing {theme}.";

static const char *const pb_holes[] = {"trigger", "a", "adj1", "adj2", "style", "subject",
                                       "motif", "body", "theme", "mood", "concept", NULL};

typedef struct pb_draw {
    const char *adj1, *adj2, *style, *subject, *motif, *body, *mood, *concept;
} pb_draw;

/* The lists in use: a user list replaces the built-in one. */
typedef struct pb_grammar {
    pb_list slot[PB_NSLOTS];
    const char **owned[PB_NSLOTS];
} pb_grammar;

static void grammar_free(pb_grammar *g)
{
    for (int i = 0; i < PB_NSLOTS; i++)
        free(g->owned[i]);
}

static int grammar_load(const aigtatt_params *p, pb_grammar *g)
{
    memset(g, 0, sizeof *g);
    for (int i = 0; i < PB_NSLOTS; i++) {
        const aigtatt_cfg *c = pb_host->param_cfg(p, pb_vocab_param(i));
        size_t n = pb_host->cfg_len(c);
        if (n == 0) {
            g->slot[i] = pb_vocab_builtin(i);
            continue;
        }
        g->owned[i] = calloc(n + 1, sizeof *g->owned[i]);
        if (!g->owned[i]) {
            grammar_free(g);
            pb_host->set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        for (size_t k = 0; k < n; k++)
            g->owned[i][k] = pb_host->cfg_scalar(pb_host->cfg_at(c, k));
        g->slot[i].words = g->owned[i];
        g->slot[i].n = n;
    }
    return AIGTATT_OK;
}

static const char *template_of(const aigtatt_params *p)
{
    const char *t = pb_host->param_string(p, "template");
    if (t && *t)
        return t;
    const char *trig = pb_host->param_string(p, "trigger");
    return trig && *trig ? pb_default_tpl : pb_default_tpl_plain;
}

/* Checks every {hole} of the template; names the first unknown one. */
static int template_check(const char *t, int has_trigger)
{
    for (const char *s = strchr(t, '{'); s; s = strchr(s + 1, '{')) {
        const char *e = strchr(s, '}');
        if (!e) {
            pb_host->set_error("template: '{' at offset %zu has no closing '}'", (size_t)(s - t));
            return AIGTATT_ERR_INVALID;
        }
        size_t len = (size_t)(e - s - 1);
        int known = 0;
        for (int i = 0; pb_holes[i]; i++)
            known |= strlen(pb_holes[i]) == len && !strncmp(s + 1, pb_holes[i], len);
        if (!known) {
            pb_host->set_error("template: unknown placeholder {%.*s} (known: {trigger} {a} {adj1} {adj2} "
                               "{style} {subject} {motif} {body} {theme} {mood} {concept})", (int)len, s + 1);
            return AIGTATT_ERR_INVALID;
        }
        if (len == 7 && !strncmp(s + 1, "trigger", 7) && !has_trigger) {
            pb_host->set_error("template uses {trigger} but 'trigger' is empty; drop the placeholder or "
                               "set a trigger token");
            return AIGTATT_ERR_INVALID;
        }
    }
    return AIGTATT_OK;
}

static int pb_template_check(const aigtatt_params *p)
{
    const char *prefix = pb_host->param_string(p, "id_prefix");
    if (!pb_prefix_ok(prefix)) {
        pb_host->set_error("id_prefix '%s' may hold only letters, digits, '_' and '-' (at most 32)", prefix);
        return AIGTATT_ERR_INVALID;
    }
    const char *trig = pb_host->param_string(p, "trigger");
    int rc = template_check(template_of(p), trig && *trig);
    if (rc)
        return rc;
    for (int i = 0; i < PB_NSLOTS; i++) {
        const aigtatt_cfg *c = pb_host->param_cfg(p, pb_vocab_param(i));
        for (size_t k = 0; k < pb_host->cfg_len(c); k++) {
            const aigtatt_cfg *item = pb_host->cfg_at(c, k);
            const char *w = pb_host->cfg_scalar(item);
            /* Only motifs may be empty: "" means "no motif phrase". */
            if (!w || (!*w && i != PB_MOTIF)) {
                char where[256];
                pb_host->set_error("%s: %s items must be non-empty words",
                                   pb_host->cfg_where(item, where, sizeof where), pb_vocab_param(i));
                return AIGTATT_ERR_INVALID;
            }
        }
    }
    return AIGTATT_OK;
}

/* A deck deals every index once per round, reshuffled each round. */
typedef struct pb_deck {
    size_t *order, n, next;
} pb_deck;

static void deck_shuffle(pb_deck *d, aigtatt_rng *rng)
{
    for (size_t i = d->n; i > 1; i--) {
        size_t j = (size_t)(pb_host->rng_u64(rng) % i);
        size_t t = d->order[i - 1];
        d->order[i - 1] = d->order[j];
        d->order[j] = t;
    }
    d->next = 0;
}

static size_t deck_deal(pb_deck *d, aigtatt_rng *rng)
{
    if (d->next == d->n)
        deck_shuffle(d, rng);
    return d->order[d->next++];
}

static int deck_init(pb_deck *d, size_t n, aigtatt_rng *rng)
{
    d->n = n;
    d->order = malloc((n ? n : 1) * sizeof *d->order);
    if (!d->order)
        return -1;
    for (size_t i = 0; i < n; i++)
        d->order[i] = i;
    deck_shuffle(d, rng);
    return 0;
}

static const char *pick(const pb_list *l, aigtatt_rng *rng)
{
    return l->words[pb_host->rng_u64(rng) % l->n];
}

static void draw_free_slots(const pb_grammar *g, aigtatt_rng *rng, pb_draw *d)
{
    d->adj1 = pick(&g->slot[PB_ADJ], rng);
    d->adj2 = pick(&g->slot[PB_ADJ], rng);
    /* "a bold, bold tattoo" reads wrong; a one-word list has no choice. */
    for (int k = 0; k < 8 && g->slot[PB_ADJ].n > 1 && !strcmp(d->adj1, d->adj2); k++)
        d->adj2 = pick(&g->slot[PB_ADJ], rng);
    d->motif = pick(&g->slot[PB_MOTIF], rng);
    d->body = pick(&g->slot[PB_BODY], rng);
    d->mood = pick(&g->slot[PB_MOOD], rng);
    d->concept = pick(&g->slot[PB_THEME], rng);
}

static void append(char *out, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= PB_MAX_PROMPT)
        n = PB_MAX_PROMPT - 1 - *len;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

/* Fills the template; {a} becomes "a" or "an" for the word after it. */
static void render(const char *tpl, const char *trigger, const pb_draw *d, char *out)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *s = tpl; *s;) {
        const char *e = *s == '{' ? strchr(s, '}') : NULL;
        if (!e) {
            char c[2] = {*s++, 0};
            append(out, &len, c);
            continue;
        }
        size_t n = (size_t)(e - s - 1);
        const char *v = "";
        char theme[256];
#define IS(name) (n == strlen(name) && !strncmp(s + 1, name, n))
        if (IS("trigger")) v = trigger;
        else if (IS("a")) v = "\x01";
        else if (IS("adj1")) v = d->adj1;
        else if (IS("adj2")) v = d->adj2;
        else if (IS("style")) v = d->style;
        else if (IS("subject")) v = d->subject;
        else if (IS("motif")) v = d->motif;
        else if (IS("body")) v = d->body;
        else if (IS("mood")) v = d->mood;
        else if (IS("concept")) v = d->concept;
        else if (IS("theme")) {
            snprintf(theme, sizeof theme, "%s %s %s", pb_article(d->mood), d->mood, d->concept);
            v = theme;
        }
#undef IS
        append(out, &len, v);
        s = e + 1;
    }
    /* Articles last: they depend on what follows after filling. */
    char tmp[PB_MAX_PROMPT];
    size_t w = 0;
    for (const char *s = out; *s && w + 3 < sizeof tmp; s++) {
        if (*s != '\x01') {
            tmp[w++] = *s;
            continue;
        }
        const char *art = pb_article(s + 1);
        for (const char *a = art; *a && w + 3 < sizeof tmp; a++)
            tmp[w++] = *a;
    }
    tmp[w] = '\0';
    memcpy(out, tmp, w + 1);
    pb_tidy(out);
}

static void meta_json(pb_buf *b, const pb_draw *d)
{
    const char *keys[] = {"style", "subject", "motif", "body_part", "mood", "concept", "adj1", "adj2"};
    const char *vals[] = {d->style, d->subject, d->motif, d->body, d->mood, d->concept, d->adj1, d->adj2};
    pb_buf_puts(b, "{");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (i)
            pb_buf_puts(b, ",");
        pb_buf_json_str(b, keys[i]);
        pb_buf_puts(b, ":");
        pb_buf_json_str(b, vals[i]);
    }
    pb_buf_puts(b, "}");
}

static int pb_template_run(aigtatt_run *run)
{
    const aigtatt_params *p = pb_host->run_params(run);
    int rc = pb_template_check(p);
    if (rc)
        return rc;
    size_t count = (size_t)pb_host->param_int(p, "count");
    const char *trigger = pb_host->param_string(p, "trigger");
    const char *prefix = pb_host->param_string(p, "id_prefix");
    const char *tpl = template_of(p);

    pb_grammar g;
    if ((rc = grammar_load(p, &g)))
        return rc;
    aigtatt_rng *rng = pb_host->rng_new(pb_host->run_seed(run));
    char **texts = calloc(count, sizeof *texts);
    pb_deck subjects = {0}, styles = {0};
    pb_strset seen = {0};
    pb_buf list = {0};
    rc = AIGTATT_ERR_NOMEM;
    if (!rng || !texts || pb_strset_init(&seen, count) || deck_init(&subjects, g.slot[PB_SUBJECT].n, rng) ||
        deck_init(&styles, g.slot[PB_STYLE].n, rng)) {
        pb_host->set_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        pb_draw d;
        d.subject = g.slot[PB_SUBJECT].words[deck_deal(&subjects, rng)];
        d.style = g.slot[PB_STYLE].words[deck_deal(&styles, rng)];
        char text[PB_MAX_PROMPT];
        int added = 0;
        for (int t = 0; t < PB_TRIES && !added; t++) {
            /* After many clashes the dealt pair itself is exhausted. */
            if (t >= PB_TRIES / 4) {
                d.subject = pick(&g.slot[PB_SUBJECT], rng);
                d.style = pick(&g.slot[PB_STYLE], rng);
            }
            draw_free_slots(&g, rng, &d);
            render(tpl, trigger, &d, text);
            if (pb_strset_find(&seen, text))
                continue;
            texts[i] = strdup(text);
            if (!texts[i] || pb_strset_add(&seen, texts[i]) < 0) {
                pb_host->set_error("out of memory");
                goto out;
            }
            added = 1;
        }
        if (!added) {
            pb_host->set_error("could make only %zu unique prompts of the %zu asked for: the template and word "
                               "lists allow too few combinations (add words, use more {placeholders}, or "
                               "lower count)", i, count);
            rc = AIGTATT_ERR_INVALID;
            goto out;
        }
        char id[64];
        pb_identity(id, sizeof id, prefix, i, count);
        pb_buf meta = {0};
        meta_json(&meta, &d);
        aigtatt_record rec = AIGTATT_RECORD_INIT;
        rec.id = id;
        rec.identity = id;
        rec.role = "prompt";
        rec.text = texts[i];
        rec.meta_json = meta.data;
        rc = meta.failed ? AIGTATT_ERR_NOMEM : pb_host->output_add(run, "prompts", &rec);
        pb_buf_free(&meta);
        if (rc)
            goto out;
        pb_buf_puts(&list, id);
        pb_buf_puts(&list, "\t");
        pb_buf_puts(&list, texts[i]);
        pb_buf_puts(&list, "\n");
    }
    /* A plain list for people; the manifest is what nodes read. */
    char path[4096];
    snprintf(path, sizeof path, "%s/prompts.txt", pb_host->run_output_dir(run, "prompts"));
    rc = list.failed ? AIGTATT_ERR_NOMEM : pb_host->write_file(path, list.data ? list.data : "", list.len);
    if (rc == AIGTATT_OK)
        pb_host->log(AIGTATT_LOG_INFO, "%zu unique prompts, e.g. \"%s\"", count, count ? texts[0] : "");
out:
    for (size_t i = 0; texts && i < count; i++)
        free(texts[i]);
    free(texts);
    free(subjects.order);
    free(styles.order);
    pb_strset_free(&seen);
    pb_buf_free(&list);
    pb_host->rng_free(rng);
    grammar_free(&g);
    return rc;
}

#define LIST_PARAM(nm, what) \
    {.name = nm, .type = AIGTATT_PARAM_LIST, .default_value = "[]", .item_type = AIGTATT_PARAM_STRING, \
     .doc = "Replaces the built-in " what " ([] keeps them)."}

static const aigtatt_param_desc pb_template_params[] = {
    {.name = "count", .type = AIGTATT_PARAM_INT, .default_value = "250", .has_min = 1, .min = 1, .has_max = 1,
     .max = 100000, .doc = "How many prompts (identities) to make; all of them are distinct."},
    {.name = "trigger", .type = AIGTATT_PARAM_STRING, .default_value = "TOK",
     .doc = "Trigger token of a fine-tuned model (DreamBooth/LoRA), put where the seed study wrote "
            "'In the style of TOK'; empty drops that phrase."},
    {.name = "template", .type = AIGTATT_PARAM_STRING, .default_value = "",
     .doc = "Sentence with placeholders {trigger} {a} {adj1} {adj2} {style} {subject} {motif} {body} {theme} "
            "{mood} {concept}; {a} becomes 'a' or 'an' for the next word. Empty: 'In the style of {trigger}, "
            "{a} {adj1}, {adj2} {style} tattoo of {subject} {motif} on the {body} describing {theme}.'"},
    {.name = "id_prefix", .type = AIGTATT_PARAM_STRING, .default_value = "T",
     .doc = "Identity names are this prefix and a number of at least 4 digits: T0001, T0002, ..."},
    LIST_PARAM("adjectives", "adjectives ({adj1}, {adj2}: unique, intricate, bold, ...)"),
    LIST_PARAM("styles", "tattoo styles ({style}: blackwork, fineline, dotwork, ...)"),
    LIST_PARAM("subjects", "subjects with their article ({subject}: 'a wolf', 'the sun', ...)"),
    LIST_PARAM("motifs", "framing phrases ({motif}: 'framed by roses', ...; '' means none)"),
    LIST_PARAM("body_parts", "body parts ({body}: forearm, wrist, ...)"),
    LIST_PARAM("moods", "theme adjectives ({mood}, first word of {theme}: eternal, quiet, ...)"),
    LIST_PARAM("themes", "theme nouns ({concept}, last word of {theme}: madness, love, ...)"),
    {.name = NULL},
};

static const aigtatt_port_desc pb_prompt_out[] = {
    {.name = "prompts", .type = "prompts",
     .doc = "One record per identity: id and identity T0001..., role 'prompt', the text, and the drawn "
            "words in meta."},
    {.name = NULL},
};

static const aigtatt_node_vtable pb_template_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = pb_template_check,
    .run = pb_template_run,
};

const aigtatt_component_desc pb_template_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_PROMPT_SOURCE,
    .name = "prompt.template",
    .version = "1.0.0",
    .summary = "Unique tattoo prompts from a seeded grammar (styles, subjects, body parts, themes)",
    .doc = "Writes `count` distinct prompts in the seed study's shape, e.g. 'In the style of TOK, a unique, "
           "intricate blackwork tattoo of a wolf framed by roses on the forearm describing an eternal "
           "madness.' Subjects and styles are dealt from shuffled decks so identities differ as much as the "
           "grammar allows; the rest is drawn at random. Same seed, same prompts. A plain list is written "
           "next to the manifest as prompts.txt.",
    AIGTATT_PARAMS(pb_template_params),
    AIGTATT_PORTS(NULL, pb_prompt_out),
    .vtable = &pb_template_vt,
};
