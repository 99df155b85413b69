/* train.embedding and embed.images through the CLI on a tiny synthetic
 * dataset: the chain to metrics, the checkpoint's contents, cache reuse,
 * refused checkpoints (mismatched, truncated) and a NaN loss. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ds_helpers.h"
#include <aigtatt/aigtatt.h>
#include "tensor/safetensors.h"

/* The train node's backend (a test may change it). */
static const char *backend_yaml = "{use: backend.onednn, threads: 2}";

/* ids identities, `var` variations each, 64x64 designs; a resnet18 at
 * 32x32 trained for `epochs` epochs with `optimizer` on backend_yaml. */
static char *write_yaml(const char *dir, int ids, int var, double train, int batch, int epochs, const char *optimizer,
                        const char *extra)
{
    char y[4096];
    snprintf(y, sizeof y,
             "aigtatt: 1\nname: tiny\nseed: 7\nnodes:\n"
             "  prompts: {use: prompt.template, params: {count: %d}}\n"
             "  designs: {use: image.procedural, inputs: {prompts: prompts}, params: {width: 64, height: 64}}\n"
             "  crops: {use: crop.ink, inputs: {images: designs}}\n"
             "  variations:\n    use: augment.pipeline\n    inputs: {images: crops}\n"
             "    params: {variations: %d, ops: [{op: rotate, p: 1, max_deg: 10}, {op: brightness, p: 0.5}]}\n"
             "  dataset:\n    use: dataset.write\n    inputs: {images: variations}\n"
             "    params: {train: %g, val: %g, test: %g, contact_sheet: 0}\n"
             "  train:\n    use: train.embedding\n    inputs: {images: dataset}\n    params:\n"
             "      backbone: {use: backbone.resnet, depth: '18', embedding_size: 16}\n"
             "      loss: {use: loss.arcface, s: 16, m: 0.2}\n"
             "      optimizer: %s\n"
             "      backend: %s\n"
             "      epochs: %d\n      batch: %d\n      image_size: 32\n"
             "%s",
             ids, var, train, (1 - train) / 2, (1 - train) / 2, optimizer, backend_yaml, epochs, batch,
             extra ? extra : "");
    return ds_write(dir, "tiny.yaml", y);
}

static const char *chain_nodes =
    "      keep_epochs: true\n"
    "  embed: {use: embed.images, inputs: {model: train, images: dataset}, params: {splits: test, batch: 8}}\n"
    "  eval: {use: eval.biometric, inputs: {embeddings: embed}, params: {report: false, open_set: false,"
    " folds: 2}}\n";

static json_t *read_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert(j, "%s: %s", path, e.text);
    return j;
}

/* How many tensors of file a are missing from b or differ from it there
 * (dtype, shape or bytes); -1 if either file cannot be read. */
static int tensors_differ(const char *a, const char *b)
{
    aigtatt_st *sa = NULL, *sb = NULL;
    int bad = -1;
    if (aigtatt_st_open(a, &sa) == AIGTATT_OK && aigtatt_st_open(b, &sb) == AIGTATT_OK) {
        bad = 0;
        for (size_t i = 0; i < aigtatt_st_count(sa); i++) {
            aigtatt_st_info x = AIGTATT_ST_INFO_INIT, y = AIGTATT_ST_INFO_INIT;
            aigtatt_st_tensor_at(sa, i, &x);
            if (aigtatt_st_find(sb, x.name, &y) != AIGTATT_OK || x.dtype != y.dtype || x.ndim != y.ndim ||
                x.nbytes != y.nbytes || (x.ndim && memcmp(x.shape, y.shape, sizeof(uint64_t) * x.ndim)) ||
                (x.nbytes && memcmp(x.data, y.data, x.nbytes)))
                bad++;
        }
    }
    aigtatt_st_close(sa);
    aigtatt_st_close(sb);
    return bad;
}

/* The epoch the seed's rule picks from history.csv: the first with the
 * lowest val_eer (a later equal one does not replace it); 0 if none. */
static int best_epoch_of(const char *history, double *best)
{
    int pick = 0;
    *best = INFINITY;
    const char *line = strchr(history, '\n');
    while (line && line[1]) {
        int epoch;
        double loss, lr, ips, eer;
        if (sscanf(line + 1, "%d,%lf,%lf,%lf,%lf", &epoch, &loss, &lr, &ips, &eer) == 5 && eer < *best) {
            *best = eer;
            pick = epoch;
        }
        line = strchr(line + 1, '\n');
    }
    return pick;
}

Test(train, chain_to_metrics_and_cache, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    write_yaml(dir, 10, 3, 0.6, 8, 4, "{use: optim.sgd, lr: 0.01, momentum: 0.9}", chain_nodes);
    int rc = ds_run(&out, dir, "tiny.yaml", "w", NULL);
    cr_assert_eq(rc, 0, "run failed (%d):\n%s", rc, out);
    free(out);

    /* the model: weights with torchvision names, metadata to rebuild it */
    char *mdir = ds_port_dir(dir, "w", "train", "model");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' -c \"import json,struct,sys; f=open('%s/model.safetensors','rb'); n=struct.unpack('<Q',"
             "f.read(8))[0]; h=json.loads(f.read(n)); m=h['__metadata__']; print(m['aigtatt.input'], "
             "m['aigtatt.embedding_size'], json.loads(m['aigtatt.backbone'])['depth'], "
             "h['layer4.1.bn2.running_var']['shape'], h['fc.weight']['shape'], 'loss.weight' in h)\"",
             getenv("AIGTATT_PYTHON") ? getenv("AIGTATT_PYTHON") : "python3", mdir);
    rc = ds_sh(&out, "%s", cmd);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "32x32 16 18 [512] [16, 512] True"), "checkpoint header: %s", out);
    free(out);
    char p[4200];
    snprintf(p, sizeof p, "%s/history.csv", mdir);
    char *hist = ds_read(p);
    cr_assert(hist && strstr(hist, "epoch,loss,lr,images_per_s,val_eer") && strstr(hist, "\n4,"), "history.csv: %s",
              hist);
    double best_eer;
    int best = best_epoch_of(hist, &best_eer);
    snprintf(p, sizeof p, "%s/training.json", mdir);
    json_t *tj = read_json(p);
    cr_assert_eq(json_integer_value(json_object_get(tj, "classes")), 6);
    /* the output is the epoch of lowest validation EER, as the seed chose */
    cr_assert(best >= 1, "history.csv has no validation EER: %s", hist);
    cr_assert_eq(json_integer_value(json_object_get(tj, "selected_epoch")), best, "selected epoch %lld, history: %s",
                 (long long)json_integer_value(json_object_get(tj, "selected_epoch")), hist);
    cr_assert_str_eq(json_string_value(json_object_get(tj, "selected_by")), "best_val_eer");
    cr_assert(fabs(json_number_value(json_object_get(tj, "best_val_eer")) - best_eer) <= 1e-6, "best_val_eer %g, "
              "history's lowest %g", json_number_value(json_object_get(tj, "best_val_eer")), best_eer);
    json_decref(tj);
    /* this setup's validation EER is lowest before the last epoch, so
     * taking the last weights would fail below */
    cr_assert(best < 4, "the lowest validation EER is at the last epoch now; make the setup pick an earlier one so "
              "the test can tell best from last: %s", hist);
    free(hist);

    /* every epoch kept, each a different file; the model is the selected
     * epoch's weights, not the last's */
    char e1[4200];
    snprintf(e1, sizeof e1, "%s/w/state/train/train/", dir);
    rc = ds_sh(&out, "cmp -s '%s'*/epoch_0001.safetensors '%s'*/epoch_0002.safetensors", e1, e1);
    cr_assert_eq(rc, 1, "epoch checkpoints missing or identical (cmp exit %d): %s", rc, out);
    free(out);
    rc = ds_sh(&out, "printf %%s '%s'*/epoch_%04d.safetensors", e1, best);
    cr_assert_eq(rc, 0, "%s", out);
    char model[4300], last[4300];
    snprintf(model, sizeof model, "%s/model.safetensors", mdir);
    snprintf(last, sizeof last, "%s/last.safetensors", mdir);
    cr_assert_eq(tensors_differ(model, out), 0, "model.safetensors is not epoch %d's weights (%s)", best, out);
    cr_assert_gt(tensors_differ(model, last), 0, "model.safetensors holds the last epoch's weights, not epoch %d's",
                 best);
    free(out);

    /* embeddings: one row per test image, labelled by the manifest */
    char *edir = ds_port_dir(dir, "w", "embed", "embeddings");
    json_t *man = ds_manifest(edir);
    size_t rows = json_array_size(man);
    cr_assert_eq(rows, 2 * (3 + 2), "test split: 2 identities x (3 variations + original + cropped), got %zu", rows);
    for (size_t i = 0; i < rows; i++) {
        const char *path = json_string_value(json_object_get(json_array_get(man, i), "path"));
        snprintf(p, sizeof p, "%s/%s", edir, path);
        struct stat st;
        cr_assert(path && stat(p, &st) == 0, "manifest image %s missing", p);
    }
    json_decref(man);
    char *mm = ds_port_dir(dir, "w", "eval", "metrics");
    snprintf(p, sizeof p, "%s/metrics.json", mm);
    json_t *mj = read_json(p);
    json_decref(mj);

    /* a second run reuses every node */
    rc = ds_run(&out, dir, "tiny.yaml", "w", NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    rc = ds_sh(&out, "cd '%s' && '%s' run tiny.yaml --plain --workdir '%s/w' 2>&1 | grep -c ': running'", dir,
               ds_cli(), dir);
    cr_assert(!strncmp(out, "0", 1), "a cached rerun ran nodes: %s", out);
    free(out);
    free(mm);
    free(edir);
    free(mdir);
    ds_rmtree(dir);
    free(dir);
}

Test(train, refuses_mismatched_and_truncated_checkpoints, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    /* the output is the last epoch's weights with the optimizer's state */
    write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.sgd, lr: 0.01, momentum: 0.9}",
               "      save_optimizer: true\n      select: last\n");
    int rc = ds_run(&out, dir, "tiny.yaml", "w", NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *mdir = ds_port_dir(dir, "w", "train", "model");
    const char *py = getenv("AIGTATT_PYTHON") ? getenv("AIGTATT_PYTHON") : "python3";
    /* a copy with one tensor missing, one extra and one misshaped */
    rc = ds_sh(&out,
               "'%s' -c \"from safetensors.numpy import load_file, save_file; from safetensors import safe_open; "
               "import numpy as np; d=load_file('%s/model.safetensors'); "
               "m=safe_open('%s/model.safetensors','np').metadata(); del d['layer2.0.conv1.weight']; "
               "d['head.extra']=np.zeros(3,np.float32); d['fc.bias']=np.zeros(17,np.float32); "
               "save_file(d,'%s/bad.safetensors',metadata=m)\"",
               py, mdir, mdir, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    ds_sh(&out, "head -c 5000 '%s/model.safetensors' > '%s/cut.safetensors'", mdir, dir);
    free(out);
    char y[2048];
    snprintf(y, sizeof y,
             "aigtatt: 1\nname: e\nnodes:\n"
             "  imgs: {use: image.folder, params: {path: '%s/w/latest/nodes/dataset/images/test'}}\n"
             "  embed: {use: embed.images, inputs: {images: imgs}, params: {splits: all, weights: WEIGHTS}}\n",
             dir);
    char *t = strstr(y, "WEIGHTS");
    char bad[sizeof y];
    /* the trained model itself embeds: its momentum buffers are not the
     * inference network's and are passed over */
    snprintf(bad, sizeof bad, "%.*s%s/model.safetensors%s", (int)(t - y), y, mdir, t + 7);
    ds_write(dir, "good.yaml", bad);
    rc = ds_run(&out, dir, "good.yaml", "wg", NULL);
    cr_assert_eq(rc, 0, "the trained model (saved with its optimizer) does not embed:\n%s", out);
    free(out);
    snprintf(bad, sizeof bad, "%.*s%s/bad.safetensors%s", (int)(t - y), y, dir, t + 7);
    ds_write(dir, "bad.yaml", bad);
    rc = ds_run(&out, dir, "bad.yaml", "wb", NULL);
    cr_assert_neq(rc, 0, "a mismatched checkpoint was accepted:\n%s", out);
    cr_assert(strstr(out, "bad.safetensors does not match"), "%s", out);
    cr_assert(strstr(out, "missing: layer2.0.conv1.weight"), "%s", out);
    cr_assert(strstr(out, "unexpected: head.extra"), "%s", out);
    cr_assert(strstr(out, "fc.bias (F32 [17] in the file, [16] here)"), "%s", out);
    free(out);
    snprintf(bad, sizeof bad, "%.*s%s/cut.safetensors%s", (int)(t - y), y, dir, t + 7);
    ds_write(dir, "cut.yaml", bad);
    rc = ds_run(&out, dir, "cut.yaml", "wc", NULL);
    cr_assert(rc != 0 && rc < 128, "a truncated checkpoint: exit %d\n%s", rc, out);
    cr_assert(strstr(out, "cut.safetensors"), "the error does not name the file:\n%s", out);
    free(out);
    /* a NaN weight is refused at load, naming the tensor: it used to embed
     * every image alike (a fused ReLU turned the NaN into 0) */
    rc = ds_sh(&out,
               "'%s' -c \"from safetensors.numpy import load_file, save_file; from safetensors import safe_open; "
               "import numpy as np; d=load_file('%s/model.safetensors'); "
               "m=safe_open('%s/model.safetensors','np').metadata(); d['conv1.weight'].flat[5]=np.nan; "
               "save_file(d,'%s/nan.safetensors',metadata=m)\"",
               py, mdir, mdir, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    snprintf(bad, sizeof bad, "%.*s%s/nan.safetensors%s", (int)(t - y), y, dir, t + 7);
    ds_write(dir, "nan.yaml", bad);
    rc = ds_run(&out, dir, "nan.yaml", "wn", NULL);
    cr_assert(rc != 0 && rc < 128, "a NaN checkpoint: exit %d\n%s", rc, out);
    cr_assert(strstr(out, "nan.safetensors: tensor 'conv1.weight' holds NaN at element 5"), "%s", out);
    free(out);
    /* aigtatt.input must be all of "HxW", within the trainer's sizes */
    const char *inputs[][2] = {{"32x32 please", "not an aigtatt checkpoint"},
                               {"100000x100000", "is outside 32x32..4096x4096"}};
    for (int i = 0; i < 2; i++) {
        rc = ds_sh(&out,
                   "'%s' -c \"from safetensors.numpy import load_file, save_file; from safetensors import "
                   "safe_open; d=load_file('%s/model.safetensors'); "
                   "m=safe_open('%s/model.safetensors','np').metadata(); m['aigtatt.input']='%s'; "
                   "save_file(d,'%s/meta.safetensors',metadata=m)\"",
                   py, mdir, mdir, inputs[i][0], dir);
        cr_assert_eq(rc, 0, "%s", out);
        free(out);
        snprintf(bad, sizeof bad, "%.*s%s/meta.safetensors%s", (int)(t - y), y, dir, t + 7);
        ds_write(dir, "meta.yaml", bad);
        char work[8];
        snprintf(work, sizeof work, "wm%d", i);
        rc = ds_run(&out, dir, "meta.yaml", work, NULL);
        cr_assert(rc != 0 && rc < 128, "aigtatt.input '%s': exit %d\n%s", inputs[i][0], rc, out);
        cr_assert(strstr(out, "meta.safetensors") && strstr(out, inputs[i][1]), "%s", out);
        free(out);
    }

    /* initial weights of a bigger network (one block more) are refused
     * too, not partly loaded; and training on every split, validation's
     * identities included, is warned about before that */
    rc = ds_sh(&out,
               "'%s' -c \"from safetensors.numpy import load_file, save_file; "
               "d=load_file('%s/model.safetensors'); d['layer1.2.conv1.weight']=d['layer1.1.conv1.weight']; "
               "save_file(d,'%s/big.safetensors')\"",
               py, mdir, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char extra[4400];
    snprintf(extra, sizeof extra, "      weights: '%s/big.safetensors'\n      train_splits: all\n", dir);
    write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.sgd, lr: 0.01}", extra);
    rc = ds_run(&out, dir, "tiny.yaml", "wi", NULL);
    cr_assert(rc != 0 && rc < 128, "weights of a bigger network were accepted (exit %d):\n%s", rc, out);
    cr_assert(strstr(out, "big.safetensors does not match") && strstr(out, "unexpected: layer1.2.conv1.weight"),
              "%s", out);
    cr_assert(strstr(out, "validation identities are also trained on (train_splits 'all'"), "%s", out);
    free(out);

    /* a warmup as long as the run is refused before anything runs,
     * naming where it is set */
    write_yaml(dir, 6, 2, 0.5, 4, 2, "{use: optim.sgd, lr: 0.01, warmup_epochs: 2}", NULL);
    rc = ds_sh(&out, "cd '%s' && '%s' validate tiny.yaml 2>&1", dir, ds_cli());
    cr_assert_eq(rc, 3, "validate gave %d: %s", rc, out);
    cr_assert(strstr(out, "tiny.yaml:") && strstr(out, "warmup_epochs (2) must be below epochs (2)"), "%s", out);
    free(out);
    /* a misspelt role would select no images of that kind, silently */
    write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.sgd, lr: 0.01}", "      roles: original|crop\n");
    rc = ds_sh(&out, "cd '%s' && '%s' validate tiny.yaml 2>&1", dir, ds_cli());
    cr_assert_eq(rc, 3, "validate gave %d: %s", rc, out);
    cr_assert(strstr(out, "'roles' holds 'crop' in 'original|crop'"), "%s", out);
    free(out);
    free(mdir);
    ds_rmtree(dir);
    free(dir);
}

/* weights: with weights_keep at its default takes the backbone only, from
 * F32, F16 or BF16 tensors. The embedding head (fc), the loss's class
 * centres and the optimizer's state start fresh even when the file holds
 * them in the same shapes (an aigtatt checkpoint of the same task, saved
 * with its optimizer): a step count carried over without its moments
 * would misplace Adam's bias correction. weights_keep: embedding takes fc
 * too, all the class centres as well, the latter only from a checkpoint
 * of the same identities. With lr 0 a second run's output is its initial
 * state. */
Test(train, weights_load_the_backbone_only, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.sgd, lr: 0.01, momentum: 0.9}",
               "      save_optimizer: true\n      select: last\n");
    int rc = ds_run(&out, dir, "tiny.yaml", "w", NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *a = ds_port_dir(dir, "w", "train", "model"), extra[4400];
    const char *py = getenv("AIGTATT_PYTHON") ? getenv("AIGTATT_PYTHON") : "python3";
    /* the same file with conv1.weight in F16 and bn1.weight in BF16 (as
     * tools/torchvision_to_safetensors.py --dtype writes them), by hand:
     * numpy has no bfloat16 */
    rc = ds_sh(&out,
               "'%s' -c \"\nimport json, struct, numpy as np\nfrom safetensors.numpy import load_file\n"
               "from safetensors import safe_open\n"
               "src = '%s/last.safetensors'\nd = load_file(src)\n"
               "meta = safe_open(src, 'np').metadata()\nhdr = {'__metadata__': meta}\nblob = b''\n"
               "for k, v in sorted(d.items()):\n"
               "    if k == 'conv1.weight':\n        dt, b = 'F16', v.astype('<f2').tobytes()\n"
               "    elif k == 'bn1.weight':\n        dt, b = 'BF16', (v.astype('<f4').view('<u4') >> 16).astype('<u2').tobytes()\n"
               "    else:\n        dt, b = {'float32': 'F32', 'int64': 'I64'}[str(v.dtype)], v.tobytes()\n"
               "    hdr[k] = {'dtype': dt, 'shape': list(v.shape), 'data_offsets': [len(blob), len(blob) + len(b)]}\n"
               "    blob += b\n"
               "h = json.dumps(hdr).encode()\n"
               "open('%s/half.safetensors', 'wb').write(struct.pack('<Q', len(h)) + h + blob)\n\"",
               py, a, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    snprintf(extra, sizeof extra, "      weights: '%s/half.safetensors'\n      save_optimizer: true\n"
             "      select: last\n", dir);
    write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.adam, lr: 0.0}", extra);
    rc = ds_run(&out, dir, "tiny.yaml", "wb", NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *b = ds_port_dir(dir, "wb", "train", "model");
    rc = ds_sh(&out,
               "'%s' -c \"import numpy as np; from safetensors.numpy import load_file; "
               "a=load_file('%s/last.safetensors'); b=load_file('%s/last.safetensors'); "
               "bf=(a['bn1.weight'].view('<u4') >> 16 << 16).view('<f4'); "
               "print('bf16', np.array_equal(bf, b['bn1.weight']), 'conv1', "
               "np.array_equal(a['conv1.weight'].astype('<f2').astype('<f4'), b['conv1.weight']), 'fc', "
               "np.array_equal(a['fc.weight'], b['fc.weight']), 'loss', np.array_equal(a['loss.weight'], "
               "b['loss.weight']), 'steps', int(a['optimizer.step']), int(b['optimizer.step']))\"",
               py, a, b);
    cr_assert_eq(rc, 0, "%s", out);
    int sa = -1, sb = -2;
    const char *st = strstr(out, "steps ");
    cr_assert(st && sscanf(st, "steps %d %d", &sa, &sb) == 2, "%s", out);
    cr_expect(strstr(out, "bf16 True conv1 True fc False loss False"),
              "backbone loaded (from F16 and BF16 too), head and centres fresh: %s", out);
    cr_expect_eq(sb, sa, "the second run counts %d optimizer steps after its %d own: the first run's were loaded",
                 sb, sa);
    free(out);

    /* weights_keep: embedding takes fc too, all the class centres as well;
     * the optimizer starts fresh either way */
    static const char *const keeps[] = {"embedding", "all"}, *const want[] = {"fc True loss False", "fc True loss True"};
    for (int i = 0; i < 2; i++) {
        char wd[16];
        snprintf(wd, sizeof wd, "wk%d", i);
        snprintf(extra, sizeof extra, "      weights: '%s/last.safetensors'\n      weights_keep: %s\n"
                 "      save_optimizer: true\n      select: last\n", a, keeps[i]);
        write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.adam, lr: 0.0}", extra);
        rc = ds_run(&out, dir, "tiny.yaml", wd, NULL);
        cr_assert_eq(rc, 0, "weights_keep: %s: %s", keeps[i], out);
        free(out);
        char *c = ds_port_dir(dir, wd, "train", "model");
        rc = ds_sh(&out,
                   "'%s' -c \"import numpy as np; from safetensors.numpy import load_file; "
                   "a=load_file('%s/last.safetensors'); b=load_file('%s/last.safetensors'); "
                   "print('conv1', np.array_equal(a['conv1.weight'], b['conv1.weight']), 'fc', "
                   "np.array_equal(a['fc.weight'], b['fc.weight']), 'loss', np.array_equal(a['loss.weight'], "
                   "b['loss.weight']), 'steps', int(b['optimizer.step']))\"",
                   py, a, c);
        cr_assert_eq(rc, 0, "%s", out);
        char w2[64];
        snprintf(w2, sizeof w2, "conv1 True %s steps %d", want[i], sa);
        cr_expect(strstr(out, w2), "weights_keep: %s: want '%s', got %s", keeps[i], w2, out);
        free(out);
        free(c);
    }
    /* all: refused from a checkpoint of other identities (its record
     * changed by hand) and from one without the record */
    rc = ds_sh(&out,
               "'%s' -c \"from safetensors.numpy import load_file, save_file; from safetensors import safe_open\n"
               "src = '%s/last.safetensors'; meta = safe_open(src, 'np').metadata(); d = load_file(src)\n"
               "save_file(d, '%s/other.safetensors', metadata=dict(meta, **{'aigtatt.identities': '3:00000000000000ff'}))\n"
               "del meta['aigtatt.identities']; save_file(d, '%s/unrecorded.safetensors', metadata=meta)\"",
               py, a, dir, dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    static const char *const files[] = {"other", "unrecorded", "missing"},
                             *const says[] = {"were trained on other identities", "has none", "No such file"};
    for (int i = 0; i < 3; i++) {
        snprintf(extra, sizeof extra, "      weights: '%s/%s.safetensors'\n      weights_keep: all\n", dir, files[i]);
        write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.adam, lr: 0.0}", extra);
        rc = ds_run(&out, dir, "tiny.yaml", "wk0", NULL);
        cr_expect_neq(rc, 0, "weights_keep: all from %s ran", files[i]);
        cr_expect(strstr(out, says[i]) && strstr(out, files[i]), "%s: %s", files[i], out);
        free(out);
    }
    /* weights_keep without weights: refused before anything runs */
    write_yaml(dir, 6, 2, 0.5, 4, 1, "{use: optim.adam, lr: 0.0}", "      weights_keep: all\n");
    rc = ds_run(&out, dir, "tiny.yaml", "wk0", NULL);
    cr_expect(rc != 0 && strstr(out, "there are no weights"), "weights_keep without weights: %s", out);
    free(out);
    free(a);
    free(b);
    ds_rmtree(dir);
    free(dir);
}

/* The divergence message of `out` (a run that diverged by epoch `epoch`)
 * names a last good checkpoint, epoch N and file, and that file holds
 * epoch N's weights, every value finite; N is before the weights that
 * diverged: before `epoch`, and before the epoch whose saved weights the
 * failing step started from. */
static void check_divergence(const char *out, int epoch)
{
    const char *d = strstr(out, "training diverged");
    cr_assert(d, "no divergence message:\n%s", out);
    cr_log_info("%.*s", (int)strcspn(d, "\n"), d);
    const char *g = strstr(d, "last good checkpoint (epoch ");
    cr_assert(g, "no last good checkpoint named:\n%s", out);
    int n = 0;
    char path[4096];
    cr_assert(sscanf(g, "last good checkpoint (epoch %d) is %4095[^;]", &n, path) == 2, "%s", g);
    cr_assert(n >= 1 && n < epoch, "last good epoch %d, diverged by epoch %d:\n%s", n, epoch, out);
    const char *on = strstr(d, "on the weights saved after epoch ");
    int bad = 0;
    if (on && sscanf(on, "on the weights saved after epoch %d", &bad) == 1)
        cr_assert(n < bad, "epoch %d's weights diverged, yet epoch %d is named good:\n%s", bad, n, out);
    char *res = NULL;
    int rc = ds_sh(&res,
                   "'%s' -c \"import numpy as np; from safetensors.numpy import load_file; from safetensors import "
                   "safe_open; d=load_file('%s'); bad=[k for k,v in d.items() if v.dtype.kind=='f' and not "
                   "np.isfinite(v).all()]; print('epoch', safe_open('%s','np').metadata()['aigtatt.epoch'], "
                   "'nonfinite', len(bad), bad[:3])\"",
                   getenv("AIGTATT_PYTHON") ? getenv("AIGTATT_PYTHON") : "python3", path, path);
    cr_assert_eq(rc, 0, "%s: %s", path, res);
    char want[64];
    snprintf(want, sizeof want, "epoch %d nonfinite 0 ", n);
    cr_assert(strstr(res, want), "%s: %s (expected %s)", path, res, want);
    free(res);
}

Test(train, nan_loss_stops_and_keeps_last_good_checkpoint, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    /* 3 training identities x 4 images = 12 images, batch 8: one step per
     * epoch. A two-epoch warmup from 0 leaves epoch 1 at lr 0, epoch 2
     * applies lr 1.5e38 (near float's largest), so epoch 3 diverges. */
    write_yaml(dir, 6, 2, 0.5, 8, 4,
               "{use: optim.sgd, lr: 3.0e38, warmup_epochs: 2, warmup_start_factor: 0}", NULL);
    int rc = ds_run(&out, dir, "tiny.yaml", "w", NULL);
    cr_assert(rc != 0 && rc < 128, "exit %d\n%s", rc, out);
    check_divergence(out, 3);
    /* that update made the weights themselves NaN or infinite, which the
     * validation (before the save) shows: never saved */
    cr_expect(strstr(out, "in epoch 2's validation"), "%s", out);
    free(out);
    /* A smaller learning rate leaves the weights finite but huge. Batch
     * norm hides the scale from the training loss, so without validation
     * they train on until an update overflows them (epoch 3's last)... */
    const char *sgd = "{use: optim.sgd, lr: 2.0e20, warmup_epochs: 2, warmup_start_factor: 0}";
    write_yaml(dir, 6, 2, 0.5, 8, 4, sgd, "      val_every: 10\n");
    rc = ds_run(&out, dir, "tiny.yaml", "w2", NULL);
    cr_assert(rc != 0 && rc < 128, "exit %d\n%s", rc, out);
    check_divergence(out, 3);
    cr_expect(strstr(out, "in the last step of epoch 3"), "%s", out);
    free(out);
    /* ... with it, epoch 2's validation (eval mode, on running statistics)
     * gives NaN embeddings: epoch 2's weights are not good and are never
     * saved; epoch 1's, still last.safetensors, are (and a NaN never makes
     * an EER) */
    write_yaml(dir, 6, 2, 0.5, 8, 4, sgd, NULL);
    rc = ds_run(&out, dir, "tiny.yaml", "w3", NULL);
    cr_assert(rc != 0 && rc < 128, "exit %d\n%s", rc, out);
    check_divergence(out, 2);
    cr_expect(strstr(out, "in epoch 2's validation") && strstr(out, "last.safetensors"), "%s", out);
    char p[4096];
    struct stat st;
    /* no model output was published */
    snprintf(p, sizeof p, "%s/w/latest/nodes/train", dir);
    cr_assert(stat(p, &st) != 0, "a failed training published %s", p);
    free(out);
    /* Batch 2 (six steps an epoch) with a warmup over 3 epochs: an update
     * within epoch 1 breaks the weights, and the next step's loss is NaN.
     * The step itself stops training there, not the end of the epoch. */
    write_yaml(dir, 6, 2, 0.5, 2, 4, "{use: optim.sgd, lr: 1.5e19, warmup_epochs: 3, warmup_start_factor: 0}",
               "      val_every: 10\n");
    rc = ds_run(&out, dir, "tiny.yaml", "w4", NULL);
    cr_assert(rc != 0 && rc < 128, "exit %d\n%s", rc, out);
    cr_expect(strstr(out, "training diverged at epoch 1, step ") && strstr(out, "before any good checkpoint") &&
                  (strstr(out, "the loss became NaN") || strstr(out, "the loss became infinite") ||
                   strstr(out, "the embeddings became NaN or infinite")),
              "no divergence within epoch 1 reported:\n%s", out);
    snprintf(p, sizeof p, "%s/w4/latest/nodes/train", dir);
    cr_assert(stat(p, &st) != 0, "a failed training published %s", p);
    free(out);
    ds_rmtree(dir);
    free(dir);
}

/* Runs tiny.yaml (8 epochs) into <dir>/b with `flags` and sends it
 * SIGINT once epoch 2 is logged; it must exit 130. The log is removed
 * first: the background job truncates it only once it has started, and
 * the previous run's "epoch 2" must not be read as this one's. */
static void interrupt_after_epoch_2(const char *dir, const char *flags)
{
    char *out = NULL;
    ds_sh(&out,
          "cd '%s' && rm -f run.log && { '%s' run tiny.yaml --plain %s --workdir '%s/b' > run.log 2>&1 & "
          "pid=$!; i=0; "
          "while ! grep -q 'epoch 2/8:' run.log && [ $i -lt 12000 ]; do sleep 0.05; i=$((i+1)); done; "
          "kill -INT $pid; wait $pid; echo \"exit $?\"; }",
          dir, ds_cli(), flags, dir);
    cr_assert(strstr(out, "exit 130"), "the run (%s) did not stop on Ctrl-C: %s", flags, out);
    free(out);
}

/* A run stopped by Ctrl-C goes on from its last saved epoch when run
 * again, and ends with the same model, bit for bit, and the same history
 * as a run that was never stopped: weights, buffers, momentum, the
 * schedule, the data order and the best epoch all carry over. */
Test(train, resumes_after_ctrl_c_where_it_stopped, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    const char *sgd = "{use: optim.sgd, lr: 0.02, momentum: 0.9, schedule: step, step_size: 4, gamma: 0.5}";
    write_yaml(dir, 10, 3, 0.6, 8, 8, sgd, "      val_every: 3\n");
    int rc = ds_run(&out, dir, "tiny.yaml", "a", NULL);
    cr_assert_eq(rc, 0, "uninterrupted run failed (%d):\n%s", rc, out);
    free(out);

    /* the same run, interrupted once epoch 2 is saved */
    interrupt_after_epoch_2(dir, "");
    rc = ds_sh(&out, "cd '%s/b/state/train/train' && ls */last.safetensors", dir);
    cr_assert_eq(rc, 0, "no checkpoint left by the interrupted run: %s", out);
    free(out);

    rc = ds_sh(&out, "cd '%s' && '%s' run tiny.yaml --plain --workdir '%s/b'", dir, ds_cli(), dir);
    cr_assert_eq(rc, 0, "resumed run failed (%d):\n%s", rc, out);
    const char *r = strstr(out, "resuming after epoch ");
    int done = 0;
    cr_assert(r && sscanf(r, "resuming after epoch %d of 8", &done) == 1, "the rerun did not resume:\n%s", out);
    cr_assert(done >= 2 && done < 8, "resumed after epoch %d:\n%s", done, out);
    cr_log_info("resumed after epoch %d", done);
    free(out);

    char *ma = ds_port_dir(dir, "a", "train", "model"), *mb = ds_port_dir(dir, "b", "train", "model");
    rc = ds_sh(&out, "cmp '%s/model.safetensors' '%s/model.safetensors' && cmp '%s/last.safetensors' "
                     "'%s/last.safetensors'", ma, mb, ma, mb);
    cr_assert_eq(rc, 0, "the resumed run's model differs from the uninterrupted one: %s", out);
    free(out);
    /* history.csv but its images/s column */
    rc = ds_sh(&out, "cd '%s' && cut -d, -f1-3,5,6 '%s/history.csv' > ha && cut -d, -f1-3,5,6 '%s/history.csv' > hb "
                     "&& cmp ha hb && grep -o '\"selected_epoch\":[0-9]*' '%s/training.json' > sa && "
                     "grep -o '\"selected_epoch\":[0-9]*' '%s/training.json' > sb && cmp sa sb && cat sa",
               dir, ma, mb, ma, mb);
    cr_assert_eq(rc, 0, "the resumed run's history differs: %s", out);
    free(out);
    /* the finished run's resume point is gone (no disk kept per setting) */
    rc = ds_sh(&out, "ls '%s'/b/state/train/train/*/last.safetensors", dir);
    cr_assert_neq(rc, 0, "a finished run kept its resume checkpoint: %s", out);
    free(out);

    /* --force starts over instead of resuming, and still ends the same */
    interrupt_after_epoch_2(dir, "--force train");
    rc = ds_sh(&out, "cd '%s' && '%s' run tiny.yaml --plain --force train --workdir '%s/b'", dir, ds_cli(), dir);
    cr_assert(rc == 0 && strstr(out, "forced: training starts over") && !strstr(out, "resuming after"),
              "--force resumed (%d):\n%s", rc, out);
    free(out);
    rc = ds_sh(&out, "cmp '%s/model.safetensors' '%s'/b/latest/nodes/train/model/model.safetensors", ma, dir);
    cr_assert_eq(rc, 0, "the forced run's model differs: %s", out);
    free(out);

    /* a kill after training returned, before its output was published:
     * the resume point is still there (the runner removes it only after
     * publishing), so the rerun publishes without training again */
    rc = ds_sh(&out, "cd '%s' && AIGTATT_TEST_KILL_BEFORE_PUBLISH=train '%s' run tiny.yaml --plain --workdir '%s/c'",
               dir, ds_cli(), dir);
    cr_assert_eq(rc, 128 + 9, "not killed before publishing (%d): %s", rc, out);
    free(out);
    rc = ds_sh(&out, "ls '%s'/c/state/train/train/*/last.safetensors", dir);
    cr_assert_eq(rc, 0, "the resume point went before the output was published: %s", out);
    free(out);
    rc = ds_sh(&out, "cd '%s' && '%s' run tiny.yaml --plain --workdir '%s/c' && cmp '%s/model.safetensors' "
                     "'%s'/c/latest/nodes/train/model/model.safetensors && ! ls '%s'/c/state/train/train/*/last.safetensors",
               dir, ds_cli(), dir, ma, dir, dir);
    cr_assert(rc == 0 && strstr(out, "resuming after epoch 8 of 8"), "after the kill (%d):\n%s", rc, out);
    free(out);
    free(ma);
    free(mb);
    ds_rmtree(dir);
    free(dir);
}

/* precision bf16: where oneDNN has bf16 kernels (AVX-512) the chain trains
 * and embeds with finite losses; elsewhere (this AVX2 VM) the run stops
 * before training with the backend's reason, naming the node. */
Test(train, bf16_trains_or_is_refused_with_reason, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    backend_yaml = "{use: backend.onednn, threads: 2, precision: bf16}";
    /* 8 identities: the test split needs two for verification (with 6,
     * dataset.write 1.1's name-keyed split left it one) */
    write_yaml(dir, 8, 2, 0.5, 4, 2, "{use: optim.sgd, lr: 0.01, momentum: 0.9}", chain_nodes);
    backend_yaml = "{use: backend.onednn, threads: 2}";
    int rc = ds_run(&out, dir, "tiny.yaml", "w", NULL);
    if (rc != 0) {
        cr_assert(rc < 128, "exit %d\n%s", rc, out);
        cr_expect(strstr(out, "precision bf16") && strstr(out, "use precision f32"), "%s", out);
        cr_expect(strstr(out, "train"), "the message does not name the node: %s", out);
        cr_expect(!strstr(out, "backend.onednn: backend.onednn") && !strstr(out, ": : "),
                  "the backend is named twice: %s", out);
        cr_expect(!__builtin_cpu_supports("avx512bf16"), "refused on a CPU with AVX512-BF16:\n%s", out);
        /* nothing was published */
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/w/latest/nodes/train", dir);
        cr_expect(stat(p, &st) != 0, "a refused training published %s", p);
    } else {
        char *m = ds_port_dir(dir, "w", "train", "model"), p[4200];
        snprintf(p, sizeof p, "%s/history.csv", m);
        char *h = ds_read(p);
        cr_assert(h, "no %s", p);
        cr_expect(!strstr(h, "nan") && !strstr(h, "inf"), "non-finite values in bf16 training:\n%s", h);
        free(h);
        free(m);
    }
    free(out);
    ds_rmtree(dir);
    free(dir);
}


/* First-epoch training loss from a model port's history.csv. */
static double first_loss(const char *dir, const char *work)
{
    char *m = ds_port_dir(dir, work, "train", "model"), p[4200];
    snprintf(p, sizeof p, "%s/history.csv", m);
    char *h = ds_read(p);
    cr_assert(h, "no %s", p);
    double loss = -1;
    const char *row = strchr(h, '\n');
    cr_assert(row && sscanf(row + 1, "%*d,%lf", &loss) == 1, "history: %s", h);
    free(h);
    free(m);
    return loss;
}

/* convolution: winograd reaches the backend through the node's params and
 * trains the same network: the first epoch's loss within 5e-3 of direct's
 * (Winograd rounds differently, ~1e-6 per convolution; the epoch's steps
 * compound it: under 1e-3 against oneDNN's AVX2 direct kernels, 1.25e-3 against
 * its AVX-512 ones; a wrong transform is off by far more). */
Test(train, winograd_trains_like_direct, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL;
    const char *modes[2] = { "{use: backend.onednn, threads: 2}",
                             "{use: backend.onednn, threads: 2, convolution: winograd}" };
    const char *work[2] = { "d", "w" };
    double loss[2];
    for (int i = 0; i < 2; i++) {
        backend_yaml = modes[i];
        write_yaml(dir, 6, 3, 0.6, 6, 1, "{use: optim.sgd, lr: 0.01, momentum: 0.9}", "");
        int rc = ds_run(&out, dir, "tiny.yaml", work[i], NULL);
        cr_assert_eq(rc, 0, "%s: exit %d\n%s", modes[i], rc, out);
        free(out);
        out = NULL;
        loss[i] = first_loss(dir, work[i]);
    }
    backend_yaml = "{use: backend.onednn, threads: 2}";
    double rel = fabs(loss[1] - loss[0]) / fabs(loss[0]);
    cr_log_info("first-epoch loss: direct %.6g, winograd %.6g (relative %.2e)", loss[0], loss[1], rel);
    cr_expect(isfinite(loss[1]) && rel <= 5e-3, "winograd loss %g against direct %g", loss[1], loss[0]);
    /* and it did reach the backend: Winograd rounds differently */
    cr_expect(rel > 0, "the same loss to the last digit: was convolution: winograd ignored?");
    ds_rmtree(dir);
    free(dir);
}

/* An identity folder (image.folder) has no splits: without val_fraction the
 * trainer says how to get one; with it, whole identities are held out for
 * validation, chosen by the seed, and never trained on. */
Test(train, val_fraction_holds_out_identities_of_a_folder, .timeout = 800)
{
    char *dir = ds_tmpdir(), *out = NULL, p[4200];
    for (int id = 0; id < 8; id++)
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s/ids/person%d/%d.png", dir, id, k);
            char folder[4200];
            snprintf(folder, sizeof folder, "%s/ids/person%d", dir, id);
            ds_sh(&out, "mkdir -p '%s'", folder);
            free(out);
            ds_png(p, 48, 48, 8 + k, 8, 30, 30, id);
        }
    char y[2048];
    snprintf(y, sizeof y,
             "aigtatt: 1\nname: folder\nseed: 3\nnodes:\n"
             "  photos: {use: image.folder, params: {path: ids}}\n"
             "  train:\n    use: train.embedding\n    inputs: {images: photos}\n    params:\n"
             "      backbone: {use: backbone.resnet, depth: '18', embedding_size: 16}\n"
             "      loss: {use: loss.arcface, s: 16, m: 0.2}\n"
             "      optimizer: {use: optim.sgd, lr: 0.01}\n"
             "      backend: %s\n      epochs: 1\n      batch: 4\n      image_size: 32\n",
             backend_yaml);
    free(ds_write(dir, "folder.yaml", y));
    int rc = ds_run(&out, dir, "folder.yaml", "w", NULL);
    cr_assert(rc != 0 && strstr(out, "have no split") && strstr(out, "val_fraction"),
              "no advice for a folder without splits (exit %d):\n%s", rc, out);
    free(out);
    rc = ds_run(&out, dir, "folder.yaml", "w", "--set train.val_fraction=0.25");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    char *mdir = ds_port_dir(dir, "w", "train", "model");
    snprintf(p, sizeof p, "%s/training.json", mdir);
    json_t *tj = read_json(p);
    /* 6 identities train, the 2 held out (3 images each) validate */
    cr_assert_eq(json_integer_value(json_object_get(tj, "classes")), 6);
    cr_assert_eq(json_integer_value(json_object_get(tj, "train_images")), 18);
    cr_assert_eq(json_integer_value(json_object_get(tj, "val_images")), 6);
    cr_assert(json_is_number(json_object_get(tj, "best_val_eer")), "no validation EER");
    json_decref(tj);
    free(mdir);
    ds_rmtree(dir);
    free(dir);
}
