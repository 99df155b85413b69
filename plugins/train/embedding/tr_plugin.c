/* The plugin: train.embedding and embed.images. */
#include "tr.h"

const aigtatt_host *tr_host;

static const aigtatt_param_desc train_params[] = {
    {.name = "backbone", .type = AIGTATT_PARAM_MAP,
     .default_value = "{use: backbone.resnet, depth: '18', embedding_size: 128}",
     .doc = "The network: {use: backbone.NAME, ...its parameters} (`aigtatt plugins info backbone.resnet`)."},
    {.name = "loss", .type = AIGTATT_PARAM_MAP, .default_value = "{use: loss.arcface, s: 30, m: 0.5}",
     .doc = "The training loss over the training identities: {use: loss.arcface | loss.cosface | loss.softmax, ...}."},
    {.name = "optimizer", .type = AIGTATT_PARAM_MAP,
     .default_value = "{use: optim.sgd, lr: 0.01, momentum: 0.9, weight_decay: 0.0005}",
     .doc = "Update rule and learning-rate schedule: {use: optim.sgd | optim.adam | optim.adamw, lr: ..., "
            "schedule: ...}."},
    {.name = "backend", .type = AIGTATT_PARAM_MAP, .default_value = "{}",
     .doc = "Where the network runs: {use: backend.onednn, threads: 0} or {use: backend.reference}; {} = "
            "backend.onednn when built, else backend.reference."},
    {.name = "epochs", .type = AIGTATT_PARAM_INT, .default_value = "10", .has_min = 1, .min = 1, .has_max = 1,
     .max = 100000, .doc = "Passes over the training images."},
    {.name = "batch", .type = AIGTATT_PARAM_INT, .default_value = "32", .has_min = 1, .min = 2, .has_max = 1,
     .max = 65536, .doc = "Images per optimizer step (the last partial batch of an epoch is dropped)."},
    {.name = "image_size", .type = AIGTATT_PARAM_INT, .default_value = "224", .has_min = 1, .min = 32, .has_max = 1,
     .max = 4096, .doc = "Images are resized to image_size x image_size (antialiased bilinear, as torchvision) "
                         "and normalised with ImageNet mean and std."},
    {.name = "flip", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0, .has_max = 1,
     .max = 1, .doc = "Online augmentation: probability of a horizontal flip per training image (seeded)."},
    {.name = "augment", .type = AIGTATT_PARAM_LIST, .item_type = AIGTATT_PARAM_MAP, .default_value = "[]",
     .doc = "Online augmentation: ops applied to every training image as it is loaded, each epoch anew, "
            "before the resize; the same entries as augment.pipeline's `ops` ({op: NAME, p: PROBABILITY, "
            "...the op's parameters}, e.g. [{op: rotate, p: 0.5, max_deg: 10}, {op: brightness, p: 0.5}]). "
            "Seeded by (node seed, epoch, position in the epoch), so runs repeat exactly. [] = none."},
    {.name = "augment_shuffle", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Apply the `augment` ops in a random order per image instead of the listed order."},
    {.name = "loader_threads", .type = AIGTATT_PARAM_INT, .default_value = "1", .has_min = 1, .min = 1, .has_max = 1,
     .max = 64, .no_key = 1, .doc = "Threads that decode, augment, resize and normalise the images of a batch while the network computes "
                       "the previous one (PyTorch's num_workers). More help with large images or online augmentation on machines with spare "
                       "cores; results do not depend on it."},
    {.name = "train_splits", .type = AIGTATT_PARAM_STRING, .default_value = "train",
     .doc = "Splits to train on, '|'-separated, or 'all' (records without a split count only for 'all')."},
    {.name = "val_splits", .type = AIGTATT_PARAM_STRING, .default_value = "val",
     .doc = "Held-out identities for the validation EER, '|'-separated; none: the last epoch is the output."},
    {.name = "val_fraction", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0, .has_max = 1,
     .max = 0.9,
     .doc = "For records without a split (an identity folder read by image.folder): this fraction of their "
            "identities, chosen by the seed, becomes split 'val' and the rest 'train' (at least two each; with "
            "fewer than four identities all train). An identity that also has records with a split is never held "
            "out. 0: records without a split count only for 'all'."},
    {.name = "roles", .type = AIGTATT_PARAM_STRING, .default_value = "all",
     .doc = "Image roles used, '|'-separated (original|cropped|variation), or 'all'."},
    {.name = "val_every", .type = AIGTATT_PARAM_INT, .default_value = "1", .has_min = 1, .min = 1,
     .doc = "Validate every N epochs (and after the last)."},
    {.name = "select", .type = AIGTATT_PARAM_ENUM, .default_value = "best_val_eer", .choices = "best_val_eer|last",
     .doc = "Which weights become the output model: the epoch with the lowest validation EER (the seed's choice) "
            "or the last."},
    {.name = "weights", .type = AIGTATT_PARAM_PATH, .default_value = "~",
     .doc = "Initial weights: a safetensors file with torchvision state_dict names (tools/"
            "torchvision_to_safetensors.py) or an aigtatt checkpoint; `weights_keep` says which parts are "
            "taken. The optimizer's state and the schedule always start fresh."},
    {.name = "weights_keep", .type = AIGTATT_PARAM_ENUM, .default_value = "backbone",
     .choices = "backbone|embedding|all",
     .doc = "What `weights` sets: `backbone` (everything but the embedding head fc.* and the loss's class "
            "centres: ImageNet weights), `embedding` (the backbone and fc.*: fine-tuning an aigtatt model on "
            "other identities; fc must have this run's embedding_size), or `all` (the class centres too: "
            "training an aigtatt model on further, from a checkpoint trained on exactly this run's training "
            "identities, which it records as aigtatt.identities). Anything the file lacks or holds in another "
            "shape is refused, naming the tensors."},
    {.name = "keep_epochs", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Keep every epoch's checkpoint (<workdir>/state/train/<node>/<key>/epoch_NNNN.safetensors) besides "
            "last and best."},
    {.name = "save_optimizer", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Also keep the optimizer's state (momentum, Adam moments) in the output last.safetensors and the "
            "keep_epochs files. (The resume checkpoint under state/ always holds it.)"},
    {.name = NULL},
};

static const aigtatt_port_desc train_in[] = {
    {.name = "images", .type = "images",
     .doc = "Identity-labelled images with splits (dataset.write's output, or image.folder)."},
    {.name = NULL},
};

static const aigtatt_port_desc train_out[] = {
    {.name = "model", .type = "model",
     .doc = "model.safetensors (the selected weights; metadata records the backbone and input size), "
            "last.safetensors, history.csv (loss, lr, images/s, validation EER and Rank-1 per epoch), "
            "training.json."},
    {.name = NULL},
};

static const aigtatt_node_vtable train_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = tr_train_check,
    .run = tr_train_run,
    .uses = tr_train_uses,
};

static const aigtatt_component_desc train_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_TRAINER,
    .name = "train.embedding",
    .version = TR_TRAIN_VERSION,
    .summary = "Trains an embedding network (backbone + margin loss) on identity-labelled images",
    .doc = "Every image of a training identity is a sample of its class (the seed study's ArcFace recipe). A "
           "loader thread decodes, optionally augments (`augment`, `flip`), resizes, normalises and batches the "
           "next batch while the backend computes. "
           "Each epoch's weights, optimizer state and history are written atomically to "
           "<workdir>/state/train/<node>/<key>/last.safetensors (<key>: the first 16 digits of the node's cache "
           "key; best.safetensors too when the validation EER improves), so a run stopped by Ctrl-C or a crash "
           "goes on after its last saved epoch when run again, and ends as the uninterrupted run would have; a "
           "NaN or infinite loss stops training and names the last good checkpoint.",
    AIGTATT_PARAMS(train_params),
    AIGTATT_PORTS(train_in, train_out),
    .vtable = &train_vt,
};

static const aigtatt_param_desc embed_params[] = {
    {.name = "splits", .type = AIGTATT_PARAM_STRING, .default_value = "test",
     .doc = "Splits to embed, '|'-separated, or 'all'."},
    {.name = "roles", .type = AIGTATT_PARAM_STRING, .default_value = "all",
     .doc = "Image roles to embed, '|'-separated, or 'all'."},
    {.name = "batch", .type = AIGTATT_PARAM_INT, .default_value = "32", .has_min = 1, .min = 1, .has_max = 1,
     .max = 65536, .doc = "Images per forward pass."},
    {.name = "loader_threads", .type = AIGTATT_PARAM_INT, .default_value = "1", .has_min = 1, .min = 1, .has_max = 1,
     .max = 64, .no_key = 1, .doc = "Threads that decode, resize and normalise the images of a batch while the network computes "
                       "the previous one (PyTorch's num_workers). More help with large images on machines with spare "
                       "cores; results do not depend on it."},
    {.name = "backend", .type = AIGTATT_PARAM_MAP, .default_value = "{}",
     .doc = "Where the network runs: {use: backend.onednn, threads: 0}; {} = backend.onednn when built."},
    {.name = "weights", .type = AIGTATT_PARAM_PATH, .default_value = "~",
     .doc = "A checkpoint written by train.embedding, when no node feeds the model input."},
    {.name = NULL},
};

static const aigtatt_port_desc embed_in[] = {
    {.name = "model", .type = "model", .optional = 1, .doc = "A train.embedding output (model.safetensors)."},
    {.name = "images", .type = "images", .doc = "The images to embed."},
    {.name = NULL},
};

static const aigtatt_port_desc embed_out[] = {
    {.name = "embeddings", .type = "embeddings",
     .doc = "embeddings.safetensors (F32 [N, K], tensor 'embeddings') and manifest.jsonl, one record per row "
            "in order, with the images linked under images/."},
    {.name = NULL},
};

static const aigtatt_node_vtable embed_vt = {
    .struct_size = sizeof(aigtatt_node_vtable),
    .check = tr_embed_check,
    .run = tr_embed_run,
    .uses = tr_embed_uses,
};

static const aigtatt_component_desc embed_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_EMBEDDER,
    .name = "embed.images",
    .version = TR_EMBED_VERSION,
    .summary = "Embeds an image set with a trained model (for eval.biometric)",
    .doc = "Rebuilds the network recorded in the checkpoint (backbone and input size), loads its weights "
           "strictly (a mismatch lists the missing, unexpected and misshaped tensors) and runs it in inference "
           "mode over the selected images, with the same resize and normalisation as training.",
    AIGTATT_PARAMS(embed_params),
    AIGTATT_PORTS(embed_in, embed_out),
    .vtable = &embed_vt,
};

static const aigtatt_component_desc *const tr_components[] = {&train_desc, &embed_desc, NULL};

static int tr_init(const aigtatt_host *host)
{
    /* augment_chain_uses is the newest host function used */
    if (host->struct_size < offsetof(aigtatt_host, augment_chain_uses) + sizeof host->augment_chain_uses)
        return AIGTATT_ERR_INVALID;
    tr_host = host;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-train", .version = TR_VERSION, .license = "MIT",
                      .description = "Training and embedding nodes over the host's compiled networks",
                      .components = tr_components, .init = tr_init);
