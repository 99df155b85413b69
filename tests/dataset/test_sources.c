/* image.folder (layouts, corrupt files) and crop.bbox (annotation look-up,
 * file:line errors) through the CLI. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds_helpers.h"

static char *dir;
static void setup(void) { dir = ds_tmpdir(); }
static void teardown(void)
{
    ds_rmtree(dir);
    free(dir);
}
TestSuite(sources, .init = setup, .fini = teardown, .timeout = 120);

static void png(const char *rel, int variant)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    ds_png(p, 96, 80, 20, 15, 40, 30, variant);
}

static const char *folder_yaml = "aigtatt: 1\nname: f\nseed: 1\nnodes:\n  imgs:\n    use: image.folder\n"
                                 "    params: {path: in, on_error: %s%s}\n";

static int run_folder(const char *on_error, const char *extra, char **out)
{
    char y[1024];
    snprintf(y, sizeof y, folder_yaml, on_error, extra);
    free(ds_write(dir, "f.yaml", y));
    return ds_run(out, dir, "f.yaml", "w", "--force imgs");
}

static void add_broken_files(void)
{
    /* A truncated PNG, an empty JPEG, and text dressed as a PNG. */
    png("in/T0003.png", 3);
    char p[4096];
    snprintf(p, sizeof p, "%s/in/T0003.png", dir);
    char *data = ds_read(p);
    ds_write_bytes(p, data, 60);
    free(data);
    free(ds_write(dir, "in/T0004.jpg", ""));
    free(ds_write(dir, "in/T0005.png", "not an image at all\n"));
}

Test(sources, flat_folder_skips_corrupt_files_and_names_them)
{
    png("in/T0001.png", 1);
    png("in/T0002.png", 2);
    add_broken_files();
    free(ds_write(dir, "in/notes.txt", "ignored: not an image name\n"));
    char *out = NULL;
    int rc = run_folder("skip", "", &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_not_null(strstr(out, "T0003.png"), "truncated file not named: %s", out);
    cr_assert_not_null(strstr(out, "T0004.jpg"), "empty file not named: %s", out);
    cr_assert_not_null(strstr(out, "T0005.png"), "text file not named: %s", out);
    free(out);
    char *d = ds_port_dir(dir, "w", "imgs", "images");
    json_t *m = ds_manifest(d);
    cr_assert_eq(json_array_size(m), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 0), "path")), "T0001/original.png");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "identity")), "T0002");
    json_decref(m);
    free(d);
}

Test(sources, on_error_fail_stops_and_publishes_nothing)
{
    png("in/T0001.png", 1);
    add_broken_files();
    char *out = NULL;
    int rc = run_folder("fail", "", &out);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "T0003.png") || strstr(out, "T0004.jpg") || strstr(out, "T0005.png"), "%s", out);
    free(out);
    char p[4096];
    snprintf(p, sizeof p, "%s/w/latest/nodes/imgs", dir);
    cr_assert_neq(access(p, F_OK), 0, "a failed node left an output");
}

Test(sources, one_folder_per_identity)
{
    png("in/alice/b.png", 1);
    png("in/alice/a.png", 2);
    png("in/bob/x.png", 3);
    char *out = NULL;
    int rc = run_folder("fail", ", layout: per_identity", &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *d = ds_port_dir(dir, "w", "imgs", "images");
    json_t *m = ds_manifest(d);
    cr_assert_eq(json_array_size(m), 3);
    const char *paths[] = {"alice/original_1.png", "alice/original_2.png", "bob/original.png"};
    const char *files[] = {"alice/a.png", "alice/b.png", "bob/x.png"};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_array_get(m, i);
        cr_assert_str_eq(json_string_value(json_object_get(o, "path")), paths[i]);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "meta"), "file")), files[i]);
    }
    json_decref(m);
    free(d);
}

static const char *bbox_yaml = "aigtatt: 1\nname: b\nseed: 1\nnodes:\n  imgs: {use: image.folder, params: "
                               "{path: in}}\n  crops:\n    use: crop.bbox\n    inputs: {images: imgs}\n"
                               "    params: {annotations: ann%s}\n";

static int run_bbox(const char *extra, char **out)
{
    char y[1024];
    snprintf(y, sizeof y, bbox_yaml, extra);
    free(ds_write(dir, "b.yaml", y));
    return ds_run(out, dir, "b.yaml", "w", "--force crops");
}

Test(sources, bbox_crops_to_the_first_box)
{
    png("in/T0001.png", 1);
    png("in/T0002.png", 2);
    free(ds_write(dir, "ann/T0001.txt", "# main tattoo first\n10 12 50 40\n60 5 90 20\n"));
    free(ds_write(dir, "ann/T0002.txt", "5,6,30,70\n"));
    char *out = NULL;
    int rc = run_bbox("", &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *d = ds_port_dir(dir, "w", "crops", "images");
    json_t *m = ds_manifest(d);
    int seen = 0;
    for (size_t i = 0; i < json_array_size(m); i++) {
        json_t *o = json_array_get(m, i);
        if (strcmp(json_string_value(json_object_get(o, "role")), "cropped"))
            continue;
        json_t *bb = json_object_get(json_object_get(o, "meta"), "bbox");
        int want[2][4] = {{10, 12, 50, 40}, {5, 6, 30, 70}};
        int k = !strcmp(json_string_value(json_object_get(o, "identity")), "T0002");
        for (int c = 0; c < 4; c++)
            cr_assert_eq(json_integer_value(json_array_get(bb, (size_t)c)), want[k][c]);
        seen++;
    }
    cr_assert_eq(seen, 2);
    json_decref(m);
    free(d);
}

static void expect_bbox_error(const char *ann, const char *want)
{
    free(ds_write(dir, "ann/T0001.txt", ann));
    char *out = NULL;
    int rc = run_bbox("", &out);
    cr_assert_eq(rc, 1, "should fail for %s: %s", ann, out);
    cr_assert_not_null(strstr(out, want), "want '%s' in: %s", want, out);
    free(out);
}

Test(sources, bbox_errors_name_file_and_line)
{
    png("in/T0001.png", 1);
    expect_bbox_error("10 10 50 50\n\n10 20 abc 40\n", "ann/T0001.txt:3: expected four numbers");
    expect_bbox_error("# c\n50 10 20 40\n", "ann/T0001.txt:2: the box 50 10 20 40 is empty");
    expect_bbox_error("200 200 300 300\n", "ann/T0001.txt:1: the box 200 200 300 300 lies outside the 96x80 image");
    expect_bbox_error("1 2 3\n", "ann/T0001.txt:1: expected four numbers");
    expect_bbox_error("\n# nothing\n", "ann/T0001.txt: no boxes");
}

Test(sources, bbox_missing_annotation_policy)
{
    png("in/T0001.png", 1);
    png("in/T0002.png", 2);
    free(ds_write(dir, "ann/T0001.txt", "10 12 50 40\n"));
    char *out = NULL;
    int rc = run_bbox("", &out);
    cr_assert_eq(rc, 1);
    cr_assert_not_null(strstr(out, "no annotation for"), "%s", out);
    cr_assert_not_null(strstr(out, "T0002"), "%s", out);
    free(out);
    rc = run_bbox(", on_missing: skip", &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *d = ds_port_dir(dir, "w", "crops", "images");
    json_t *m = ds_manifest(d);
    int crops = 0;
    for (size_t i = 0; i < json_array_size(m); i++)
        crops += !strcmp(json_string_value(json_object_get(json_array_get(m, i), "role")), "cropped");
    cr_assert_eq(crops, 1);
    json_decref(m);
    free(d);
}

/* Identity folders that are symlinks into a dataset elsewhere: the cache
 * key follows them as the reader does, so an image added there reruns the
 * node instead of reusing the old listing. */
Test(sources, symlinked_folders_are_part_of_the_cache_key)
{
    png("data/alice/a.png", 1);
    png("data/bob/x.png", 2);
    char in[4096], p[4200];
    snprintf(in, sizeof in, "%s/in", dir);
    cr_assert_eq(mkdir(in, 0755), 0);
    snprintf(p, sizeof p, "%s/alice", in);
    cr_assert_eq(symlink("../data/alice", p), 0);
    snprintf(p, sizeof p, "%s/bob", in);
    cr_assert_eq(symlink("../data/bob", p), 0);
    char y[1024];
    snprintf(y, sizeof y, folder_yaml, "fail", ", layout: per_identity");
    free(ds_write(dir, "f.yaml", y));
    for (int round = 0; round < 2; round++) {
        char *out = NULL;
        int rc = ds_run(&out, dir, "f.yaml", "w", NULL);
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        char *d = ds_port_dir(dir, "w", "imgs", "images");
        json_t *m = ds_manifest(d);
        cr_assert_eq(json_array_size(m), (size_t)(2 + round), "round %d: %zu images", round, json_array_size(m));
        json_decref(m);
        free(d);
        png("data/alice/b.png", 3); /* behind the link */
    }
}

/* A name that is not UTF-8 (Latin-1 "café") or holds a tab is one bad
 * file: skipped and named under on_error: skip (it used to stop the node
 * with a broken-record error naming no file). A symlinked file with
 * link: auto is linked through to its file, so the cache holds no link
 * that dangles. */
Test(sources, odd_names_are_bad_files_and_symlinks_link_their_file)
{
    png("in/alice/a.png", 1);
    png("in/alice/caf\xe9.png", 2);
    png("in/bob/b\tc.png", 3);
    png("real/d.png", 4);
    char p[4200], *out = NULL;
    snprintf(p, sizeof p, "%s/in/dora", dir);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/in/dora/d.png", dir);
    cr_assert_eq(symlink("../../real/d.png", p), 0, "a relative symlink, which would dangle if linked as such");
    int rc = run_folder("skip", ", link: auto", &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "not UTF-8 text or holds a control character"), "%s", out);
    free(out);
    char *d = ds_port_dir(dir, "w", "imgs", "images");
    json_t *m = ds_manifest(d);
    cr_assert_eq(json_array_size(m), 2, "alice/a.png and dora/d.png");
    json_decref(m);
    snprintf(p, sizeof p, "%s/dora/original.png", d);
    struct stat st;
    cr_assert(lstat(p, &st) == 0 && S_ISREG(st.st_mode), "%s is not a regular file", p);
    free(d);
}
