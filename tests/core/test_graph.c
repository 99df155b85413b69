/* The experiment graph through the CLI: validation messages with
 * file:line:col, caching, --set, --force, and what a killed run leaves. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static char *dir;

static void setup(void) { dir = th_tmpdir(); }
static void teardown(void)
{
    char *out;
    th_sh(&out, "rm -rf '%s'", dir);
    free(out);
    free(dir);
}

TestSuite(graph, .init = setup, .fini = teardown, .timeout = 120);

static const char *chain =
    "aigtatt: 1\n"
    "name: chain\n"
    "seed: 7\n"
    "nodes:\n"
    "  emit:\n"
    "    use: test.emit\n"
    "    params: {count: 4, salt: pepper}\n"
    "  copy:\n"
    "    use: test.copy\n"
    "    inputs: {items: emit}\n"
    "  copy2:\n"
    "    use: test.copy\n"
    "    params: {suffix: again}\n"
    "    inputs: {items: copy.items}\n";

/* Runs `aigtatt validate` on `yaml` and checks exit 3 and the message. */
static void expect_invalid(const char *yaml, const char *where, const char *needle)
{
    char *f = th_write(dir, "bad.yaml", yaml);
    char *out;
    int rc = th_sh(&out, "%s validate %s", th_cli(), f);
    cr_assert_eq(rc, 3, "exit %d, output: %s", rc, out);
    char loc[4200];
    snprintf(loc, sizeof loc, "%s:%s", f, where);
    cr_assert(strstr(out, loc), "expected location %s in: %s", loc, out);
    cr_assert(strstr(out, needle), "expected '%s' in: %s", needle, out);
    free(out);
    free(f);
}

Test(graph, valid_chain_validates)
{
    char *f = th_write(dir, "ok.yaml", chain);
    char *out;
    int rc = th_sh(&out, "%s validate %s", th_cli(), f);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "emit -> copy -> copy2"), "%s", out);
    free(out);
    free(f);
}

Test(graph, unknown_top_key_suggests)
{
    expect_invalid("nodse:\n  a: {use: test.emit}\n", "1:1", "did you mean 'nodes'");
}

Test(graph, unknown_param_suggests)
{
    expect_invalid("nodes:\n  a:\n    use: test.emit\n    params:\n      cuont: 3\n", "5:7",
                   "unknown parameter 'cuont' for test.emit (did you mean 'count'?)");
}

Test(graph, wrong_type) { expect_invalid("nodes:\n  a:\n    use: test.emit\n    params: {count: many}\n", "4:21", "expected an integer, got 'many'"); }

Test(graph, out_of_range)
{
    expect_invalid("nodes:\n  a:\n    use: test.emit\n    params: {ratio: 1.5}\n", "4:21", "must be between 0 and 1, got 1.5");
}

Test(graph, enum_lists_choices)
{
    expect_invalid("nodes:\n  a:\n    use: test.emit\n    params: {mode: quick}\n", "4:20", "expected one of 'fast', 'slow', 'exact'");
}

/* A node without `params:` that misses a required one: the message names
 * the node and where it is, not only the component. */
Test(graph, missing_required_parameter_names_the_node)
{
    expect_invalid("nodes:\n  imgs: {use: image.folder}\n", "2:", "node 'imgs': image.folder: missing required "
                   "parameter 'path'");
}

Test(graph, unknown_component_suggests)
{
    expect_invalid("nodes:\n  a:\n    use: test.emti\n", "3:10", "did you mean 'test.emit'");
}

Test(graph, dangling_reference)
{
    expect_invalid("nodes:\n  a: {use: test.emit}\n  b:\n    use: test.copy\n    inputs: {items: aa}\n", "5:21",
                   "unknown node 'aa' (did you mean 'a'?)");
}

Test(graph, cycle_named)
{
    expect_invalid("nodes:\n"
                   "  a:\n    use: test.copy\n    inputs: {items: b}\n"
                   "  b:\n    use: test.copy\n    inputs: {items: a}\n",
                   "", "cycle: a -> b -> a");
}

Test(graph, port_type_mismatch)
{
    /* test.copy has input "items"; a bogus output port name is refused. */
    expect_invalid("nodes:\n  a: {use: test.emit}\n  b:\n    use: test.copy\n    inputs: {items: a.pictures}\n",
                   "5:21", "has no output 'pictures'");
}

Test(graph, missing_required_input)
{
    expect_invalid("nodes:\n  b:\n    use: test.copy\n", "3:5", "needs input 'items'");
}

Test(graph, component_check_runs)
{
    expect_invalid("nodes:\n  a: {use: test.emit}\n  b:\n    use: test.copy\n    params: {suffix: forbidden}\n"
                   "    inputs: {items: a}\n", "5:13", "must not be 'forbidden'");
}

Test(graph, anchors_refused) { expect_invalid("x: &a 1\ny: *a\n", "1:4", "anchor"); }
Test(graph, duplicate_keys_refused) { expect_invalid("nodes: {}\nnodes: {}\n", "2:1", "duplicate"); }
Test(graph, tags_refused) { expect_invalid("seed: !!int 5\nnodes: {a: {use: test.emit}}\n", "1:7", "tag"); }

Test(graph, bad_set_override_names_set)
{
    char *f = th_write(dir, "ok.yaml", chain);
    char *out;
    int rc = th_sh(&out, "%s validate %s --set emit.count=lots", th_cli(), f);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "--set emit.count:1:1"), "%s", out);
    free(out);
    rc = th_sh(&out, "%s validate %s --set emt.count=3", th_cli(), f);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "did you mean 'emit'"), "%s", out);
    free(out);
    /* a '#' that YAML would take for a comment is refused, not cut off */
    rc = th_sh(&out, "%s validate %s --set 'emit.salt=tattoo #3 style'", th_cli(), f);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "comment") && strstr(out, "quote it"), "%s", out);
    free(out);
    rc = th_sh(&out, "%s validate %s --set 'emit.salt=#ffffff'", th_cli(), f);
    cr_assert_eq(rc, 3, "%s", out);
    free(out);
    /* quoted, or not after a blank, it is part of the value */
    rc = th_sh(&out, "%s validate %s --set 'emit.salt=\"tattoo #3\"' --set 'emit.salt=a#b'", th_cli(), f);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    /* blanks only are the empty text, not a mapping */
    rc = th_sh(&out, "%s validate %s --set 'emit.salt=  '", th_cli(), f);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    free(f);
}

Test(graph, usage_errors_exit_2)
{
    char *out;
    cr_assert_eq(th_sh(&out, "%s run", th_cli()), 2, "%s", out);
    free(out);
    cr_assert_eq(th_sh(&out, "%s frobnicate", th_cli()), 2, "%s", out);
    free(out);
    cr_assert_eq(th_sh(&out, "%s run x.yaml --bogus", th_cli()), 2, "%s", out);
    free(out);
    /* a --force naming no node is a bad command line too */
    char *f = th_write(dir, "ok.yaml", chain);
    cr_assert_eq(th_sh(&out, "%s run %s --force nosuch --workdir %s/wf", th_cli(), f, dir), 2, "%s", out);
    cr_assert(strstr(out, "--force nosuch: no such node"), "%s", out);
    free(out);
    free(f);
    cr_assert_eq(th_sh(&out, "%s run --help", th_cli()), 0, "%s", out);
    cr_assert(strstr(out, "--force NODE"), "%s", out);
    free(out);
}

Test(graph, dot_output)
{
    char *f = th_write(dir, "ok.yaml", chain);
    char *out;
    int rc = th_sh(&out, "%s graph %s", th_cli(), f);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "digraph \"chain\""), "%s", out);
    cr_assert(strstr(out, "\"emit\" -> \"copy\""), "%s", out);
    cr_assert(strstr(out, "\"copy\" -> \"copy2\""), "%s", out);
    free(out);
    free(f);
}

/* Reads the status of `node` from <workdir>/latest/lock.json. */
static char *status_of(const char *wd, const char *node)
{
    char *out;
    th_sh(&out, "python3 -c \"import json,sys; print(json.load(open('%s/latest/lock.json'))['nodes']['%s']['status'])\"",
          wd, node);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

static void expect_status(const char *wd, const char *node, const char *want)
{
    char *s = status_of(wd, node);
    cr_assert_str_eq(s, want, "node %s", node);
    free(s);
}

/* <workdir>/latest leads to this run's folder even when the workdir's own
 * path holds a "runs" folder (the link used to cut at the first one). */
Test(graph, latest_under_a_runs_folder)
{
    char *f = th_write(dir, "chain.yaml", chain);
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/runs/exp", dir);
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "copy2", "ran");
    free(f);
}

/* A parameter declared no_key (a thread count) is left out of the cache
 * key, so changing it reuses the cached node. Any other parameter reruns
 * the node. */
Test(graph, no_key_parameter_keeps_the_cache)
{
    char *f = th_write(dir, "chain.yaml", chain);
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/work", dir);
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "emit", "ran");
    rc = th_sh(&out, "%s run %s --workdir %s --plain --set emit.threads=7", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "0 nodes ran, 3 from cache"), "%s", out);
    free(out);
    expect_status(wd, "emit", "cached");
    /* resolved.yaml says what this run asked for; the cached node's
     * node.json says what produced its outputs */
    char *meta = NULL;
    th_sh(&meta, "cat %s/latest/resolved.yaml", wd);
    cr_assert(meta && strstr(meta, "threads: 7"), "resolved.yaml lacks threads: 7: %s", meta);
    free(meta);
    th_sh(&meta, "cat %s/latest/nodes/emit/node.json", wd);
    cr_assert(meta && strstr(meta, "\"threads\": 1"), "node.json lacks the producing run's threads: %s", meta);
    free(meta);
    /* and so does lock.json for the cached node */
    th_sh(&meta, "cat %s/latest/lock.json", wd);
    cr_assert(meta && strstr(meta, "\"threads\": 1") && !strstr(meta, "\"threads\": 7"),
              "lock.json shows parameters that did not make the cached outputs: %s", meta);
    free(meta);
    /* what uses() named for the key is recorded with its version */
    rc = th_sh(&out, "%s run %s --workdir %s --plain --set copy.uses=test.emit", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    th_sh(&meta, "cat %s/latest/nodes/copy/node.json", wd);
    cr_assert(meta && strstr(meta, "\"uses\": {") && strstr(meta, "\"test.emit\": \"1\""), "%s", meta);
    free(meta);
    rc = th_sh(&out, "%s run %s --workdir %s --plain --set emit.ratio=0.25", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "emit", "ran");
    rc = th_sh(&out, "%s plugins info test.emit", th_cli());
    cr_assert(strstr(out, "Not in the cache key"), "%s", out);
    free(out);
    free(f);
}

Test(graph, cache_skips_unchanged_and_reruns_downstream)
{
    char *f = th_write(dir, "chain.yaml", chain);
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/work", dir);
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "emit", "ran");
    expect_status(wd, "copy2", "ran");
    char *first = NULL;
    th_sh(&first, "cat %s/latest/nodes/copy2/items/item0002.txt", wd);
    cr_assert(strstr(first, "pepper") && strstr(first, "copied") && strstr(first, "again"), "%s", first);

    rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "0 nodes ran, 3 from cache"), "%s", out);
    free(out);
    expect_status(wd, "emit", "cached");
    expect_status(wd, "copy", "cached");
    expect_status(wd, "copy2", "cached");

    /* Changing the middle node reruns it and what follows, not what precedes. */
    rc = th_sh(&out, "%s run %s --workdir %s --plain --set copy.suffix=changed", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "emit", "cached");
    expect_status(wd, "copy", "ran");
    expect_status(wd, "copy2", "ran");
    char *second;
    th_sh(&second, "cat %s/latest/nodes/copy2/items/item0002.txt", wd);
    cr_assert(strstr(second, "changed"), "%s", second);

    /* Going back finds the old entries still in the cache. */
    rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "copy", "cached");
    char *third;
    th_sh(&third, "cat %s/latest/nodes/copy2/items/item0002.txt", wd);
    cr_assert_str_eq(first, third);

    /* --force reruns the node and everything downstream. */
    rc = th_sh(&out, "%s run %s --workdir %s --plain --force copy", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "emit", "cached");
    expect_status(wd, "copy", "ran");
    expect_status(wd, "copy2", "ran");

    /* The run folder has the resolved config and the manifest. */
    char *yaml = NULL;
    th_sh(&yaml, "cat %s/latest/resolved.yaml && cat %s/latest/nodes/copy/items/manifest.jsonl", wd, wd);
    cr_assert(strstr(yaml, "pepper"), "%s", yaml);
    cr_assert(strstr(yaml, "\"id\":\"item0000\""), "%s", yaml);
    free(yaml);
    free(first);
    free(second);
    free(third);
    free(f);
}

Test(graph, seed_changes_outputs_and_node_ids_separate_seeds)
{
    char *f = th_write(dir, "chain.yaml", chain);
    char *out, *a, *b, *c;
    th_sh(&out, "%s run %s --workdir %s/w1 --plain && %s run %s --workdir %s/w2 --plain --set seed=8", th_cli(), f,
          dir, th_cli(), f, dir);
    free(out);
    th_sh(&a, "cat %s/w1/latest/nodes/emit/items/item0000.txt", dir);
    th_sh(&b, "cat %s/w2/latest/nodes/emit/items/item0000.txt", dir);
    cr_assert_str_neq(a, b);
    th_sh(&out, "%s run %s --workdir %s/w3 --plain", th_cli(), f, dir);
    free(out);
    th_sh(&c, "cat %s/w3/latest/nodes/emit/items/item0000.txt", dir);
    cr_assert_str_eq(a, c, "same seed, same output");
    free(a);
    free(b);
    free(c);
    free(f);
}

Test(graph, failing_node_reports_location_and_skips_downstream)
{
    char *f = th_write(dir, "fail.yaml",
                       "nodes:\n  a: {use: test.emit}\n  b:\n    use: test.fail\n    inputs: {items: a}\n"
                       "  c:\n    use: test.copy\n    inputs: {items: b}\n");
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "node 'b' (test.fail) at"), "%s", out);
    cr_assert(strstr(out, "fail.yaml:4:5"), "%s", out);
    cr_assert(strstr(out, "failed on purpose"), "%s", out);
    free(out);
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/w", dir);
    expect_status(wd, "b", "failed");
    expect_status(wd, "c", "skipped");
    th_sh(&out, "ls -a %s/w/cache/b", dir);
    cr_assert(!strstr(out, ".tmp-"), "a failed node leaves no build folder: %s", out);
    free(out);
    free(f);
}

Test(graph, kill_9_mid_node_leaves_nothing_complete)
{
    char *f = th_write(dir, "slow.yaml",
                       "nodes:\n  a:\n    use: test.emit\n    params: {count: 40}\n"
                       "  s:\n    use: test.slow\n    params: {ms: 50}\n    inputs: {items: a}\n");
    char *out;
    /* Start, let the slow node get going, kill -9. */
    int rc = th_sh(&out, "%s run %s --workdir %s/w --plain & pid=$!; sleep 1; kill -9 $pid; wait $pid; exit 0",
                   th_cli(), f, dir);
    free(out);
    th_sh(&out, "ls -a %s/w/cache/s", dir);
    cr_assert(strstr(out, ".tmp-"), "the kill should have caught the node mid-way: %s", out);
    char *sep = strstr(out, "\n");
    (void)sep;
    free(out);
    /* No final entry exists for the slow node. */
    th_sh(&out, "ls %s/w/cache/s | grep -v '^\\.' | wc -l", dir);
    cr_assert_eq(atoi(out), 0, "a killed node must not look complete");
    free(out);
    rc = th_sh(&out, "%s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "removing unfinished output"), "%s", out);
    free(out);
    th_sh(&out, "ls %s/w/latest/nodes/s/items/ | grep -c txt; ls -a %s/w/cache/s | grep -c tmp", dir, dir);
    cr_assert(strstr(out, "40\n0"), "all 40 items, no leftovers: %s", out);
    free(out);
    free(f);
}

Test(graph, ctrl_c_cleans_up_and_exits_130)
{
    char *f = th_write(dir, "slow.yaml",
                       "nodes:\n  a:\n    use: test.emit\n    params: {count: 40}\n"
                       "  s:\n    use: test.slow\n    params: {ms: 50}\n    inputs: {items: a}\n");
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s/w --plain & pid=$!; sleep 1; kill -INT $pid; wait $pid", th_cli(),
                   f, dir);
    cr_assert_eq(rc, 130, "%s", out);
    cr_assert(strstr(out, "interrupted"), "%s", out);
    free(out);
    th_sh(&out, "ls -a %s/w/cache/s", dir);
    cr_assert(!strstr(out, ".tmp-"), "Ctrl-C removes the partial output: %s", out);
    free(out);
    free(f);
}

Test(graph, ctrl_c_after_a_node_finished_keeps_its_output)
{
    /* test.emit raises SIGINT after its last item and returns success: its
     * output is complete and must be published, and the run must stop
     * before the next node. */
    char *f = th_write(dir, "late.yaml",
                       "nodes:\n  a:\n    use: test.emit\n    params: {count: 5, sigint_at_end: true}\n"
                       "  c:\n    use: test.copy\n    inputs: {items: a}\n");
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 130, "%s", out);
    cr_assert(strstr(out, "interrupted before node 'c'"), "%s", out);
    cr_assert_null(strstr(out, "[c] test.copy"), "the next node must not start: %s", out);
    free(out);
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/w", dir);
    expect_status(wd, "a", "ran");
    expect_status(wd, "c", "skipped");
    rc = th_sh(&out, "%s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "[a] test.emit: cached"), "the finished node must come from the cache: %s", out);
    free(out);
    free(f);
}

Test(graph, spent_state_goes_only_after_publication)
{
    /* test.emit writes state/spent/r1 and marks it spent: a kill after the
     * node returned, before its output was published, must leave it (the
     * trainer's resume point: removed by the node itself, such a kill lost
     * the whole run); a run that publishes removes it, and a path outside
     * state/ is refused. */
    char *f = th_write(dir, "spent.yaml",
                       "nodes:\n  a:\n    use: test.emit\n    params: {count: 2, spent: spent/r1}\n");
    char *out;
    int rc = th_sh(&out, "AIGTATT_TEST_KILL_BEFORE_PUBLISH=a %s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 128 + 9, "killed: %s", out);
    free(out);
    rc = th_sh(&out, "cat %s/w/state/spent/r1 && ls %s/w/cache/a 2>/dev/null | grep -v tmp | wc -l", dir, dir);
    cr_assert_eq(rc, 0, "the resume point went before the output was published: %s", out);
    cr_assert(strstr(out, "resume\n0"), "nothing published, the resume point kept: %s", out);
    free(out);
    free(f);
    f = th_write(dir, "spent.yaml", "nodes:\n  a:\n    use: test.emit\n    params: {count: 2, spent: spent/r1}\n");
    rc = th_sh(&out, "%s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = th_sh(&out, "test ! -e %s/w/state/spent/r1 && ls %s/w/cache/a | grep -v tmp | wc -l", dir, dir);
    cr_assert_eq(rc, 0, "published, yet the spent file stayed: %s", out);
    cr_assert(strncmp(out, "0", 1), "nothing published: %s", out);
    free(out);
    /* a killed --force run: the earlier output stays published, so the next
     * plain run takes it from the cache and removes the forced run's
     * spent state (it stayed for good before the runner kept a record) */
    rc = th_sh(&out, "AIGTATT_TEST_KILL_BEFORE_PUBLISH=a %s run %s --workdir %s/w --plain --force a", th_cli(), f, dir);
    cr_assert_eq(rc, 128 + 9, "killed: %s", out);
    free(out);
    rc = th_sh(&out, "cat %s/w/state/spent/r1", dir);
    cr_assert_eq(rc, 0, "the forced run wrote no state: %s", out);
    free(out);
    rc = th_sh(&out, "%s run %s --workdir %s/w --plain 2>&1 && test ! -e %s/w/state/spent/r1", th_cli(), f, dir, dir);
    cr_assert(rc == 0 && strstr(out, "cached"), "the killed forced run's state stayed: %s", out);
    free(out);
    /* a kill right after the publication, before the removal: the next
     * run finds the node published and removes what it marked */
    rc = th_sh(&out, "AIGTATT_TEST_KILL_AFTER_PUBLISH=a %s run %s --workdir %s/w3 --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 128 + 9, "killed: %s", out);
    free(out);
    rc = th_sh(&out, "cat %s/w3/state/spent/r1 && %s run %s --workdir %s/w3 --plain 2>&1 && test ! -e %s/w3/state/spent/r1",
               dir, th_cli(), f, dir, dir);
    cr_assert(rc == 0 && strstr(out, "cached"), "after a kill past the publication: %s", out);
    free(out);
    /* a record edited by hand cleans nothing outside state/ */
    rc = th_sh(&out,
               "echo keep > %s/victim && printf '%%s\\n%%s\\n' \"$(ls -d %s/w3/cache/a/* | head -n 1)\" %s/victim "
               "> %s/w3/state/.spent/fake && %s run %s --workdir %s/w3 --plain 2>&1 && cat %s/victim",
               dir, dir, dir, dir, th_cli(), f, dir, dir);
    cr_assert(rc == 0 && strstr(out, "keep"), "a spent record removed a file outside state/: %s", out);
    free(out);
    free(f);

    static const char *const bad[] = {"../x", "x/..", "x/./y"};
    for (int i = 0; i < 3; i++) {
        char y[256];
        snprintf(y, sizeof y, "nodes:\n  a:\n    use: test.emit\n    params: {count: 2, spent: '%s'}\n", bad[i]);
        f = th_write(dir, "spent.yaml", y);
        rc = th_sh(&out, "%s run %s --workdir %s/w2 --plain", th_cli(), f, dir);
        cr_expect_neq(rc, 0, "%s: %s", bad[i], out);
        cr_expect(strstr(out, "is not under the state folder"), "%s: %s", bad[i], out);
        free(out);
        free(f);
    }
}

Test(graph, temporaries_of_killed_writes_in_state_are_removed)
{
    /* A kill during a node's atomic write under state/ (a training
     * checkpoint) leaves "<file>.tmp.XXXXXX"; the next run removes it and
     * leaves the node's own files alone. */
    char *f = th_write(dir, "one.yaml", "nodes:\n  a:\n    use: test.emit\n");
    char *out;
    int rc = th_sh(&out,
                   "mkdir -p %s/w/state/train/t/abc && cd %s/w/state/train/t/abc && "
                   "echo x > last.safetensors.tmp.Ab3dE9 && echo y > 1.png.tmp.4242.7 && "
                   "echo z > last.safetensors && echo k > notes.tmp.txt",
                   dir, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = th_sh(&out, "%s run %s --workdir %s/w --plain", th_cli(), f, dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "last.safetensors.tmp.Ab3dE9, an unfinished write"), "%s", out);
    free(out);
    th_sh(&out, "ls %s/w/state/train/t/abc | tr '\\n' ' '", dir);
    cr_assert_str_eq(out, "last.safetensors notes.tmp.txt ", "what state/ kept: %s", out);
    free(out);
    free(f);
}

Test(graph, concurrent_runs_refused)
{
    char *f = th_write(dir, "slow.yaml",
                       "nodes:\n  a:\n    use: test.emit\n    params: {count: 20}\n"
                       "  s:\n    use: test.slow\n    params: {ms: 50}\n    inputs: {items: a}\n");
    char *out;
    int rc = th_sh(&out, "%s run %s --workdir %s/w --plain >/dev/null 2>&1 & sleep 0.5; %s run %s --workdir %s/w; "
                   "r=$?; wait; exit $r", th_cli(), f, dir, th_cli(), f, dir);
    cr_assert_eq(rc, 4, "%s", out);
    cr_assert(strstr(out, "another aigtatt run is using"), "%s", out);
    free(out);
    free(f);
}

Test(graph, progress_bar_on_terminal_lines_otherwise)
{
    char *f = th_write(dir, "slow.yaml",
                       "nodes:\n  a:\n    use: test.emit\n    params: {count: 12}\n"
                       "  s:\n    use: test.slow\n    params: {ms: 30}\n    inputs: {items: a}\n");
    char *out;
    /* script(1) gives the CLI a pseudo-terminal. */
    int rc = th_sh(&out, "cd %s && script -qec '%s run %s --workdir %s/t' /dev/null", dir, th_cli(), f, dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\r\033[Kcopying [") && strstr(out, "/12 ") && strstr(out, "ETA "), "no bar: %s", out);
    free(out);
    rc = th_sh(&out, "%s run %s --workdir %s/p --force s", th_cli(), f, dir);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "\033[K"), "escape codes in a pipe: %s", out);
    cr_assert(strstr(out, "copying 12/12"), "%s", out);
    free(out);
    free(f);
}

Test(graph, new_version_of_a_used_building_block_reruns_the_node)
{
    char *f = th_write(dir, "uses.yaml",
                       "nodes:\n  a: {use: test.emit}\n"
                       "  b:\n    use: test.copy\n    params: {uses: extra.emit}\n    inputs: {items: a}\n");
    const char *fx = th_env("AIGTATT_FIXTURE_DIR");
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/w", dir);
    char *out;
    int rc = th_sh(&out, "AIGTATT_PLUGIN_PATH=%s/good:%s/extra_v1 %s run %s --workdir %s --plain", fx, fx,
                   th_env("AIGTATT_BIN"), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = th_sh(&out, "AIGTATT_PLUGIN_PATH=%s/good:%s/extra_v1 %s run %s --workdir %s --plain", fx, fx,
               th_env("AIGTATT_BIN"), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "b", "cached");
    rc = th_sh(&out, "AIGTATT_PLUGIN_PATH=%s/good:%s/extra_v2 %s run %s --workdir %s --plain", fx, fx,
               th_env("AIGTATT_BIN"), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "a", "cached");
    expect_status(wd, "b", "ran");
    free(f);
}

Test(graph, changed_data_behind_a_path_parameter_reruns)
{
    char *f = th_write(dir, "watch.yaml", "nodes:\n  a:\n    use: test.emit\n    params: {watch: data}\n");
    char *out;
    th_sh(&out, "mkdir -p %s/data/sub && echo one > %s/data/sub/x.txt", dir, dir);
    free(out);
    char wd[4200];
    snprintf(wd, sizeof wd, "%s/w", dir);
    int rc = th_sh(&out, "%s run %s --workdir %s --plain && %s run %s --workdir %s --plain", th_cli(), f, wd,
                   th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "a", "cached");
    /* Same size, new content and time: the node must rerun. */
    th_sh(&out, "sleep 0.01; echo two > %s/data/sub/x.txt", dir);
    free(out);
    rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    expect_status(wd, "a", "ran");
    /* A new file in the folder too. */
    th_sh(&out, "touch %s/data/new.txt", dir);
    free(out);
    rc = th_sh(&out, "%s run %s --workdir %s --plain", th_cli(), f, wd);
    free(out);
    expect_status(wd, "a", "ran");
    free(f);
}

/* A PATH value that is not UTF-8 (a Latin-1 folder name) cannot enter the
 * JSON cache key: the error says so and names the node and parameter,
 * and validate exits 3 (it used to say "out of memory" and exit 1). */
Test(graph, path_not_utf8_is_named)
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/T\xe4to", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    char *f = th_write(sub, "exp.yaml", "aigtatt: 1\nnodes:\n  emit:\n    use: test.emit\n    params: {watch: .}\n");
    char *out;
    int rc = th_sh(&out, "%s validate '%s'", th_cli(), f);
    cr_assert_eq(rc, 3, "exit %d: %s", rc, out);
    cr_assert(strstr(out, "node 'emit'") && strstr(out, "'watch'") && strstr(out, "not UTF-8"), "%s", out);
    free(out);
    free(f);
}

/* ~/ in the YAML is $HOME, as in the shell, for the workdir and PATH
 * parameters alike (it used to make a folder named "~" beside the file);
 * workdir: ~ (YAML's null) is the default workdir. */
Test(graph, tilde_is_home)
{
    char home[4200], data[4300];
    snprintf(home, sizeof home, "%s/home", dir);
    snprintf(data, sizeof data, "%s/data", home);
    cr_assert_eq(mkdir(home, 0755), 0);
    cr_assert_eq(mkdir(data, 0755), 0);
    char *f = th_write(dir, "t.yaml",
                       "aigtatt: 1\nname: tl\nworkdir: ~/runs\nnodes:\n  emit:\n    use: test.emit\n"
                       "    params: {watch: ~/data}\n");
    char *out;
    int rc = th_sh(&out, "cd '%s' && HOME='%s' %s run t.yaml --plain", dir, home, th_cli());
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    struct stat st;
    char p[4400];
    snprintf(p, sizeof p, "%s/runs/latest/lock.json", home);
    cr_assert_eq(stat(p, &st), 0, "no run under $HOME/runs");
    snprintf(p, sizeof p, "%s/~", dir);
    cr_assert_neq(stat(p, &st), 0, "a folder named ~ was made beside the file");
    char *lock = NULL;
    th_sh(&lock, "cat '%s/runs/latest/lock.json'", home);
    cr_assert(lock && strstr(lock, data), "watch did not resolve to %s: %s", data, lock);
    free(lock);
    free(f);
    f = th_write(dir, "n.yaml", "aigtatt: 1\nname: nullwd\nworkdir: ~\nnodes:\n  emit: {use: test.emit}\n");
    rc = th_sh(&out, "cd '%s' && HOME='%s' %s run n.yaml --plain", dir, home, th_cli());
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    snprintf(p, sizeof p, "%s/aigtatt-out/nullwd/latest/lock.json", dir);
    cr_assert_eq(stat(p, &st), 0, "workdir: ~ did not give the default workdir");
    free(f);
    /* quoted, ~ is the text, as in the shell */
    f = th_write(dir, "q.yaml", "aigtatt: 1\nname: q\nnodes:\n  emit:\n    use: test.emit\n"
                                "    params: {watch: \"~/data\"}\n");
    rc = th_sh(&out, "cd '%s' && HOME='%s' %s run q.yaml --plain && cat aigtatt-out/q/latest/lock.json", dir, home,
               th_cli());
    snprintf(p, sizeof p, "%s/~/data", dir);
    cr_assert(rc == 0 && strstr(out, p), "a quoted ~ was expanded: %s", out);
    free(out);
    free(f);
}

/* A node watching a folder that holds workdirs stays cached: workdirs
 * hold a run lock and are left out whatever path reaches them (here the
 * watched folder through a symlink), and so are other experiments', so two
 * experiments in one folder do not invalidate each other. */
Test(graph, watched_folder_skips_workdirs)
{
    const char *y = "aigtatt: 1\nname: %s\nnodes:\n  emit:\n    use: test.emit\n    params: {watch: .}\n";
    char text[256], link[4200], *out;
    snprintf(text, sizeof text, y, "one");
    char *f1 = th_write(dir, "one.yaml", text);
    snprintf(text, sizeof text, y, "two");
    char *f2 = th_write(dir, "two.yaml", text);
    snprintf(link, sizeof link, "%s-link", dir);
    cr_assert_eq(symlink(dir, link), 0);
    for (int i = 0; i < 2; i++) {
        /* through the link, with the workdir named by its real path */
        int rc = th_sh(&out, "cd '%s' && %s run one.yaml --plain --workdir '%s/w1'", link, th_cli(), dir);
        cr_assert_eq(rc, 0, "%s", out);
        if (i == 1)
            cr_assert(strstr(out, "0 nodes ran, 1 from cache"), "the symlinked workdir was walked: %s", out);
        free(out);
    }
    int rc = th_sh(&out, "cd '%s' && %s run one.yaml --plain && %s run two.yaml --plain && %s run one.yaml --plain",
                   dir, th_cli(), th_cli(), th_cli());
    cr_assert_eq(rc, 0, "%s", out);
    /* one: ran (a new workdir); two: ran; one again: cached */
    const char *first = strstr(out, "finished: "), *second = first ? strstr(first + 1, "finished: ") : NULL,
               *third = second ? strstr(second + 1, "finished: ") : NULL;
    cr_assert(third && !strncmp(third, "finished: 0 nodes ran, 1 from cache", 35),
              "another experiment's workdir reran one: %s", out);
    free(out);
    rc = th_sh(&out, "cd '%s' && %s run one.yaml --plain", dir, th_cli());
    cr_assert(rc == 0 && strstr(out, "0 nodes ran, 1 from cache"), "another experiment's workdir reran one: %s", out);
    free(out);
    unlink(link);
    free(f1);
    free(f2);
}

/* resolved.yaml runs as it stands, from anywhere: overrides applied, and
 * the name, seed, workdir and PATH values written out, so the rerun lands
 * in the same workdir and finds every node cached. */
Test(graph, resolved_yaml_reruns_from_the_cache)
{
    char data[4200];
    snprintf(data, sizeof data, "%s/data", dir);
    cr_assert_eq(mkdir(data, 0755), 0);
    /* no name: the file's, "r.v2", which is no valid name to write back */
    char *f = th_write(dir, "r.v2.yaml", "aigtatt: 1\nnodes:\n  emit:\n    use: test.emit\n    params: {watch: data}\n");
    char *out;
    int rc = th_sh(&out, "cd '%s' && %s run r.v2.yaml --plain --set emit.count=2", dir, th_cli());
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = th_sh(&out, "cd / && %s run '%s/aigtatt-out/r.v2/latest/resolved.yaml' --plain", th_cli(), dir);
    cr_assert(rc == 0 && strstr(out, "0 nodes ran, 1 from cache") && strstr(out, "aigtatt-out/r.v2/runs"),
              "resolved.yaml did not rerun from the cache: %s", out);
    free(out);
    free(f);
}
