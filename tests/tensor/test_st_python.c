/* Interoperability with the reference implementation, the Python package
 * `safetensors` (run by $AIGTATT_PYTHON, default python3, through
 * tests/tensor/st_interop.py):
 *  - files aigtatt writes load in safetensors.numpy.load_file and
 *    safetensors.torch.load_file with the right dtypes, shapes, values and
 *    metadata;
 *  - files the package writes load in aigtatt with the same;
 *  - for the same tensors (one metadata key) both write the same bytes;
 *  - tools/torchvision_to_safetensors.py writes a torchvision model's
 *    state_dict (random initialisation: no download) under exactly its key
 *    names, dtypes and shapes.
 * numpy and safetensors are required (scripts/requirements-test.txt): a
 * missing package fails the test. The torch parts need PyTorch (Debian's
 * python3-torch and python3-torchvision): they use $AIGTATT_PYTHON when it
 * has torch, else /usr/bin/python3, and are skipped, saying so, only when
 * neither has it. */
#include "tensor/st_test_util.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static char dir[256];

static void setup(void)
{
    st_mkdtemp(dir, sizeof dir);
}

static void teardown(void)
{
    st_rmdir(dir);
}

TestSuite(st_python, .init = setup, .fini = teardown, .timeout = 600);

static const char *source_dir(void)
{
    const char *src = getenv("AIGTATT_TEST_SOURCE_DIR");
    return src && *src ? src : ".";
}

static const char *default_python(void)
{
    const char *py = getenv("AIGTATT_PYTHON");
    return py && *py ? py : "python3";
}

/* Runs `py` with argv (NULL-terminated, without argv[0]); returns the exit
 * status (127 when it cannot start) and leaves stderr+stdout in `out`. */
static int run_py(const char *py, const char *const *args, char *out, size_t outsz)
{
    const char *argv[16];
    size_t n = 0;
    argv[n++] = py;
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    char log[300];
    snprintf(log, sizeof log, "%s/py.log", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, py, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (out && outsz)
        out[0] = '\0';
    if (rc != 0) {
        if (out)
            snprintf(out, outsz, "cannot start %s: %s", py, strerror(rc));
        return 127;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (out && outsz) {
        FILE *f = fopen(log, "r");
        if (f) {
            size_t got = fread(out, 1, outsz - 1, f);
            out[got] = '\0';
            fclose(f);
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *script(const char *rel)
{
    size_t len = strlen(source_dir()) + strlen(rel) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", source_dir(), rel);
    return p;
}

/* Runs st_interop.py MODE ARG... with `py`; fails the test on a non-zero
 * status, printing the script's output. */
static void interop3(const char *py, const char *mode, const char *a1, const char *a2,
                     const char *a3)
{
    char *s = script("tests/tensor/st_interop.py");
    const char *args[] = {s, mode, a1, a2, a3, NULL};
    char out[8192];
    int rc = run_py(py, args, out, sizeof out);
    cr_assert_eq(rc, 0, "%s st_interop.py %s exited with %d:\n%s", py, mode, rc, out);
    free(s);
}

static void interop(const char *py, const char *mode, const char *a1, const char *a2)
{
    interop3(py, mode, a1, a2, NULL);
}

static int has_modules(const char *py, const char *m1, const char *m2, const char *m3)
{
    char *s = script("tests/tensor/st_interop.py");
    const char *args[] = {s, "probe", m1, m2, m3, NULL};
    int rc = run_py(py, args, NULL, 0);
    free(s);
    return rc == 0;
}

/* The interpreter for the torch parts, or NULL (then *why says why). */
static const char *torch_python(const char *m3, char *why, size_t whysz)
{
    const char *cands[] = {default_python(), "/usr/bin/python3"};
    for (size_t i = 0; i < 2; i++)
        if (has_modules(cands[i], "torch", m3, "numpy"))
            return cands[i];
    snprintf(why, whysz,
             "skipped: neither %s nor /usr/bin/python3 can import torch, %s and numpy "
             "(apt-get install python3-torch python3-torchvision; for safetensors.torch, give "
             "AIGTATT_PYTHON a venv made with --system-site-packages and "
             "pip install safetensors)",
             default_python(), m3);
    return NULL;
}

static void write_meta_many(aigtatt_st_writer *w)
{
    /* META_MANY of st_interop.py */
    cr_assert_eq(aigtatt_st_writer_meta(w, "format", "pt"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "note", "quote \" backslash \\ newline \n tab \t "
                                                   "\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "de"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "empty", ""), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "\xc3\xa9t\xc3\xa9", "summer"), 0);
}

static void require_numpy(void)
{
    const char *py = default_python();
    char *s = script("tests/tensor/st_interop.py");
    const char *args[] = {s, "probe", "numpy", "safetensors", NULL};
    char out[2048];
    int rc = run_py(py, args, out, sizeof out);
    free(s);
    cr_assert_eq(rc, 0,
                 "the reference package is needed: %s (exit %d). Install it into the "
                 "interpreter named by AIGTATT_PYTHON: python3 -m pip install safetensors numpy",
                 out, rc);
}

Test(st_python, ours_load_in_numpy)
{
    require_numpy();
    char *path = st_join(dir, "ours-np.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    st_add_set(w, 0);
    write_meta_many(w);
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    interop(default_python(), "numpy-check", path, NULL);
    free(path);
}

Test(st_python, numpy_files_load_in_ours)
{
    require_numpy();
    char *path = st_join(dir, "np.safetensors");
    interop(default_python(), "numpy-write", path, NULL);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    st_check_set(st, 0);
    cr_assert_eq(aigtatt_st_metadata_count(st), 1);
    cr_assert_str_eq(aigtatt_st_metadata(st, "format"), "interop");
    aigtatt_st_close(st);

    char *meta = st_join(dir, "np-meta.safetensors");
    interop(default_python(), "numpy-write-meta", meta, NULL);
    cr_assert_eq(aigtatt_st_open(meta, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_count(st), 0);
    cr_assert_eq(aigtatt_st_metadata_count(st), 4);
    cr_assert_str_eq(aigtatt_st_metadata(st, "note"),
                     "quote \" backslash \\ newline \n tab \t \xc3\xbcn\xc3\xaf" "c\xc3\xb8" "de");
    cr_assert_str_eq(aigtatt_st_metadata(st, "empty"), "");
    cr_assert_str_eq(aigtatt_st_metadata(st, "\xc3\xa9t\xc3\xa9"), "summer");
    aigtatt_st_close(st);
    free(meta);
    free(path);
}

/* The same tensors and one metadata key: byte-identical files. */
Test(st_python, same_bytes_as_reference)
{
    require_numpy();
    char *theirs = st_join(dir, "theirs.safetensors");
    char *ours = st_join(dir, "ours.safetensors");
    interop(default_python(), "numpy-write", theirs, NULL);
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    st_add_set(w, 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "format", "interop"), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, ours), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    size_t na, nb;
    unsigned char *a = st_read_bytes(theirs, &na);
    unsigned char *b = st_read_bytes(ours, &nb);
    size_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | a[i];
    cr_assert_eq(nb, na, "ours %zu bytes, the reference's %zu", nb, na);
    cr_assert_eq(memcmp(a, b, na), 0, "the files differ\nreference: %.*s\nours:      %.*s",
                 (int)hl, (const char *)a + 8, (int)hl, (const char *)b + 8);
    free(a);
    free(b);
    free(theirs);
    free(ours);
}

Test(st_python, torch_both_ways)
{
    char why[512];
    const char *py = torch_python("safetensors", why, sizeof why);
    if (!py)
        cr_skip_test("%s", why);
    char *ours = st_join(dir, "ours-pt.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    st_add_set(w, 1);
    write_meta_many(w);
    cr_assert_eq(aigtatt_st_writer_write(w, ours), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    interop(py, "torch-check", ours, NULL);

    char *theirs = st_join(dir, "pt.safetensors");
    interop(py, "torch-write", theirs, NULL);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(theirs, &st), 0, "%s", aigtatt_last_error());
    st_check_set(st, 1);
    cr_assert_str_eq(aigtatt_st_metadata(st, "format"), "interop");
    aigtatt_st_close(st);
    free(ours);
    free(theirs);
}

/* tools/torchvision_to_safetensors.py with --weights none (no download):
 * every state_dict key of resnet18, with its dtype and shape. */
Test(st_python, torchvision_converter_keys)
{
    char why[512];
    const char *py = torch_python("torchvision", why, sizeof why);
    if (!py)
        cr_skip_test("%s", why);
    char *out = st_join(dir, "resnet18.safetensors");
    char *keys = st_join(dir, "keys.json");
    char *tool = script("tools/torchvision_to_safetensors.py");
    const char *args[] = {tool, "resnet18", "--weights", "none", "-o", out, NULL};
    char log[8192];
    int rc = run_py(py, args, log, sizeof log);
    cr_assert_eq(rc, 0, "the converter exited with %d:\n%s", rc, log);
    interop(py, "torch-keys", "resnet18", keys);

    json_error_t err;
    json_t *want = json_load_file(keys, 0, &err);
    cr_assert_not_null(want, "%s: %s", keys, err.text);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(out, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_count(st), json_object_size(want), "%zu tensors, torchvision has %zu",
                 aigtatt_st_count(st), json_object_size(want));
    cr_assert_eq(json_object_size(want), 122, "resnet18's state_dict has 122 entries");
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v) {
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        cr_assert_eq(aigtatt_st_find(st, k, &info), 0, "%s", aigtatt_last_error());
        cr_assert_str_eq(aigtatt_st_dtype_name(info.dtype), json_string_value(json_array_get(v, 0)),
                         "%s", k);
        json_t *shape = json_array_get(v, 1);
        cr_assert_eq(info.ndim, json_array_size(shape), "%s", k);
        for (size_t d = 0; d < info.ndim; d++)
            cr_assert_eq(info.shape[d], (uint64_t)json_integer_value(json_array_get(shape, d)),
                         "%s dim %zu", k, d);
    }
    /* A few names spelt out, as the backbone plugin will look them up. */
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_find(st, "conv1.weight", &info), 0);
    cr_assert_eq(info.ndim, 4);
    cr_assert_eq(info.shape[0], 64);
    cr_assert_eq(info.shape[3], 7);
    cr_assert_eq(aigtatt_st_find(st, "layer4.1.bn2.running_var", &info), 0);
    cr_assert_eq(aigtatt_st_find(st, "bn1.num_batches_tracked", &info), 0);
    cr_assert_eq(info.dtype, AIGTATT_ST_I64);
    cr_assert_eq(info.ndim, 0);
    cr_assert_eq(aigtatt_st_find(st, "fc.weight", &info), 0);
    cr_assert_eq(info.shape[0], 1000);
    cr_assert_eq(info.shape[1], 512);
    cr_assert_str_eq(aigtatt_st_metadata(st, "source"), "torchvision");
    cr_assert_str_eq(aigtatt_st_metadata(st, "model"), "resnet18");
    cr_assert_str_eq(aigtatt_st_metadata(st, "weights"), "none");
    aigtatt_st_close(st);
    json_decref(want);

    /* --help documents the download and the examples. */
    const char *help[] = {tool, "--help", NULL};
    rc = run_py(py, help, log, sizeof log);
    cr_assert_eq(rc, 0, "%s", log);
    cr_assert(strstr(log, "internet"), "%s", log);
    cr_assert(strstr(log, "--weights none"), "%s", log);

    /* a class that is callable but no model builder: one error line, no
     * traceback, and the earlier output left as it was */
    const char *cls[] = {tool, "ResNet", "--weights", "none", "-o", out, NULL};
    rc = run_py(py, cls, log, sizeof log);
    cr_assert_eq(rc, 1, "exit %d:\n%s", rc, log);
    cr_assert(strstr(log, "error: torchvision has no model 'ResNet'") && !strstr(log, "Traceback"), "%s", log);
    cr_assert_eq(aigtatt_st_open(out, &st), 0, "%s", aigtatt_last_error());
    aigtatt_st_close(st);
    free(tool);
    free(keys);
    free(out);
}

static float bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* The converter's pretrained path (--weights NAME), offline: a random
 * checkpoint is put where torchvision caches the download ($TORCH_HOME), so
 * nothing is fetched. With --dtype bf16: floats become BF16, the I64
 * buffers stay, and the published accuracy lands in the metadata. */
Test(st_python, torchvision_converter_pretrained_offline)
{
    char why[512];
    const char *py = torch_python("torchvision", why, sizeof why);
    if (!py)
        cr_skip_test("%s", why);
    char *home = st_join(dir, "torch-home");
    char *raw = st_join(dir, "fc.bias.f32");
    char *out = st_join(dir, "r18-v1-bf16.safetensors");
    cr_assert_eq(setenv("TORCH_HOME", home, 1), 0);
    interop3(py, "torch-fake-hub", "resnet18", "IMAGENET1K_V1", raw);
    char *tool = script("tools/torchvision_to_safetensors.py");
    const char *args[] = {tool, "resnet18", "--weights", "IMAGENET1K_V1", "--dtype", "bf16",
                          "-o", out, NULL};
    char log[8192];
    int rc = run_py(py, args, log, sizeof log);
    cr_assert_eq(rc, 0, "the converter exited with %d:\n%s", rc, log);

    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(out, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_count(st), 122);
    cr_assert_str_eq(aigtatt_st_metadata(st, "weights"), "IMAGENET1K_V1");
    cr_assert_str_eq(aigtatt_st_metadata(st, "imagenet_acc1"), "69.758");
    cr_assert_str_eq(aigtatt_st_metadata(st, "crop_size"), "[224]");
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_find(st, "layer1.0.bn1.num_batches_tracked", &info), 0);
    cr_assert_eq(info.dtype, AIGTATT_ST_I64);
    cr_assert_eq(aigtatt_st_find(st, "fc.bias", &info), 0);
    cr_assert_eq(info.dtype, AIGTATT_ST_BF16);
    cr_assert_eq(info.numel, 1000);
    size_t n;
    unsigned char *want = st_read_bytes(raw, &n);
    cr_assert_eq(n, 4000);
    for (size_t i = 0; i < 1000; i++) {
        float w, g;
        uint16_t h;
        memcpy(&w, want + 4 * i, 4);
        memcpy(&h, (const unsigned char *)info.data + 2 * i, 2);
        g = bf16_to_f32(h);
        cr_assert(fabsf(g - w) <= fabsf(w) / 256.0f + 1e-30f, "fc.bias[%zu]: %g vs %g", i, g, w);
    }
    free(want);
    aigtatt_st_close(st);
    free(tool);
    free(out);
    free(raw);
    free(home);
}
