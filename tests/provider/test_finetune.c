/* finetune.replicate through the CLI: the curated images zipped (a valid
 * archive), uploaded, a training started towards the destination, polled,
 * its version handed to image.replicate; reruns and interruptions never
 * start a second training. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "provider/ph.h"

TestSuite(finetune, .init = ph_setup, .fini = ph_teardown, .timeout = 60);

#define KEY "REPLICATE_API_TOKEN=" PH_CANARY

/* prompts -> image.sdapi (the curated set) -> finetune.replicate ->
 * image.replicate with the new version. */
static void experiment_to(const char *dest, const char *ft_extra)
{
    ph_prompts(3);
    char y[4096];
    snprintf(y, sizeof y,
             "name: ft\nseed: 3\nnodes:\n"
             "  prompts:\n    use: prompt.file\n    params: {path: prompts.txt}\n"
             "  curated:\n    use: image.sdapi\n    params: {base_url: 'http://127.0.0.1:%d'}\n"
             "    inputs: {prompts: prompts}\n"
             "  tune:\n    use: finetune.replicate\n"
             "    params: {base_url: '%s', allow_http: loopback, destination: '%s', poll_interval_s: 0.05,"
             " backoff_s: 0.05, captions: csv, max_train_steps: 500%s%s}\n"
             "    inputs: {images: curated}\n"
             "  generate:\n    use: image.replicate\n"
             "    params: {base_url: '%s', allow_http: loopback, poll_interval_s: 0.05, lora_scale: 0.7}\n"
             "    inputs: {prompts: prompts, model_version: tune}\n",
             fa_port(ph_fa, 0), ph_base(), dest, ft_extra && *ft_extra ? ", " : "", ft_extra ? ft_extra : "", ph_base());
    ph_write("f.yaml", y);
}

static void experiment(const char *ft_extra) { experiment_to("me/tattoo-tok", ft_extra); }

Test(finetune, zip_upload_train_and_generate_with_the_new_version)
{
    experiment("create_destination: true");
    fa_set(ph_fa, "model_get", FA_404);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run f.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "created the destination model me/tattoo-tok"), "%s", out);
    cr_assert(strstr(out, "new version me/tattoo-tok:"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "files"), 1);
    cr_assert_eq(fa_count(ph_fa, "model_create"), 1);
    cr_assert_eq(fa_count(ph_fa, "train"), 1);
    cr_assert_geq(fa_count(ph_fa, "train_poll"), 2);

    /* the upload is a valid zip with the 3 images and caption.csv */
    size_t blen;
    char *body = fa_last_body(ph_fa, "files", &blen);
    cr_assert_not_null(body);
    char *ctype = fa_last_header(ph_fa, "files", "content-type");
    cr_assert(!strncmp(ctype, "multipart/form-data; boundary=", 30), "%s", ctype);
    free(ctype);
    const char *start = NULL, *bnd = NULL;
    for (size_t i = 0; i + 4 < blen && !start; i++)
        if (!memcmp(body + i, "PK\x03\x04", 4))
            start = body + i;
    cr_assert_not_null(start, "no zip in the upload");
    /* the content part ends at the next boundary line */
    for (const char *p = start; p + 12 < body + blen && !bnd; p++)
        if (!memcmp(p, "\r\n--aigtatt-", 12))
            bnd = p;
    cr_assert_not_null(bnd);
    char zpath[512];
    snprintf(zpath, sizeof zpath, "%s/upload.zip", ph_dir);
    FILE *f = fopen(zpath, "wb");
    cr_assert_not_null(f);
    fwrite(start, 1, (size_t)(bnd - start), f);
    fclose(f);
    free(body);
    rc = ph_sh(&out, "python3 -c \"import zipfile,sys; z=zipfile.ZipFile('upload.zip'); "
                     "assert z.testzip() is None; print(sorted(z.namelist())); "
                     "print(z.read('caption.csv').decode())\"");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "'0001_T0001.png', '0002_T0002.png', '0003_T0003.png', 'caption.csv'"), "%s", out);
    cr_assert(strstr(out, "image_file,caption"), "%s", out);
    free(out);

    /* the training request */
    char *tb = fa_last_body(ph_fa, "train", NULL);
    json_t *t = json_loads(tb, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(t, "destination")), "me/tattoo-tok");
    json_t *in = json_object_get(t, "input");
    cr_assert(strstr(json_string_value(json_object_get(in, "input_images")), "/v1/files/file1"));
    cr_assert_str_eq(json_string_value(json_object_get(in, "token_string")), "TOK");
    cr_assert_str_eq(json_string_value(json_object_get(in, "caption_prefix")), "In the style of TOK, ");
    cr_assert_eq(json_integer_value(json_object_get(in, "max_train_steps")), 500);
    json_decref(t);
    free(tb);

    /* the new version on the port, and image.replicate used it */
    char *mv = ph_read("w/latest/nodes/tune/model_version/model_version.json", NULL);
    cr_assert_not_null(mv);
    json_t *v = json_loads(mv, 0, NULL);
    const char *ver = json_string_value(json_object_get(v, "version"));
    cr_assert_not_null(ver, "%s", mv);
    cr_assert_str_eq(json_string_value(json_object_get(v, "model")), "me/tattoo-tok");
    cr_assert_eq(json_integer_value(json_object_get(v, "images")), 3);
    char *cb = fa_last_body(ph_fa, "create", NULL);
    json_t *c = json_loads(cb, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(c, "version")), ver);
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(c, "input"), "lora_scale")), 0.7, 1e-9);
    json_decref(c);
    free(cb);
    json_decref(v);
    free(mv);

    /* forced: the finished training comes from the resume store */
    int before = fa_count(ph_fa, "*");
    rc = ph_cli(&out, NULL, KEY, "run f.yaml --plain --workdir w --force tune");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "from the resume store (0 requests)"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "*"), before);
}

Test(finetune, interrupted_training_is_resumed_not_restarted)
{
    experiment("");
    fa_set(ph_fa, "train", FA_HOLD);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (chdir(ph_dir) != 0)
            _exit(127);
        FILE *f = freopen("bg.log", "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        signal(SIGINT, SIG_DFL);
        setenv("REPLICATE_API_TOKEN", PH_CANARY, 1);
        execl(getenv("AIGTATT_BIN"), "aigtatt", "run", "f.yaml", "--plain", "--workdir", "w", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && fa_count(ph_fa, "train_poll") < 3; i++)
        usleep(10000);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    char *log = ph_read("bg.log", NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 130, "%s", log);
    cr_assert(strstr(log, "training t1 keeps running"), "%s", log);
    free(log);
    fa_release(ph_fa);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run f.yaml --plain --workdir w");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "resuming training t1"), "%s", out);
    cr_assert(strstr(out, "training images already uploaded"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "train"), 1, "a second training was started");
    cr_assert_eq(fa_count(ph_fa, "files"), 1, "the images were uploaded twice");
}

Test(finetune, failed_training_fails_the_node)
{
    experiment("");
    fa_set(ph_fa, "train", FA_FAIL);
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "run f.yaml --plain --workdir w");
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "training t1 failed"), "%s", out);
    free(out);
    cr_assert_eq(fa_count(ph_fa, "create"), 0, "no image generated from a failed training");
}

Test(finetune, validation)
{
    experiment_to("me/tattoo:abc", "");
    char *out;
    int rc = ph_cli(&out, NULL, KEY, "validate f.yaml");
    cr_assert_eq(rc, 3, "%s", out);
    free(out);
    experiment("caption_prefix: 'a photo of '");
    rc = ph_cli(&out, NULL, KEY, "validate f.yaml");
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "must contain token_string"), "%s", out);
    free(out);
}
