#!/usr/bin/env python3
"""Convert a torchvision model's weights to a safetensors file for aigtatt.

aigtatt names parameters and buffers exactly like torchvision's state_dict
(conv1.weight, bn1.running_mean, layer1.0.conv1.weight, ..., fc.weight), so
the file this writes is what a backbone plugin imports as pretrained
weights.

Needs PyTorch and torchvision, and internet access the first time a set of
pretrained weights is used (torchvision downloads them into its cache,
~/.cache/torch/hub/checkpoints, and reuses them from there). If the Python
package `safetensors` is installed it writes the file; otherwise a built-in
writer produces the same bytes.

Examples:
  # ImageNet weights of ResNet-50 (torchvision's current best set)
  tools/torchvision_to_safetensors.py resnet50 -o resnet50.safetensors

  # a named set of weights, stored as bfloat16
  tools/torchvision_to_safetensors.py resnet18 --weights IMAGENET1K_V1 \\
      --dtype bf16 -o resnet18-v1-bf16.safetensors

  # random initialisation (no download): useful to check the key names
  tools/torchvision_to_safetensors.py resnet18 --weights none -o r18-random.safetensors

  # which weight sets a model has
  tools/torchvision_to_safetensors.py resnet101 --list-weights

The file's "__metadata__" records: format=pt, source=torchvision, model,
weights, torch_version, torchvision_version, and the weights' published
ImageNet accuracy and transforms' resize/crop sizes when torchvision knows
them.
"""
import argparse
import json
import struct
import sys

# Reference Dtype declaration order (safetensors/src/tensor.rs); the
# reference serializer sorts by it, descending, then by name.
_RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
         "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
         "F64", "I64", "U64"]


def _dtype_name(torch, dt):
    names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
             torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
             torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
    if dt not in names:
        raise SystemExit("error: tensors of type %s cannot be stored" % dt)
    return names[dt]


def _tensor_bytes(torch, t):
    """The tensor's bytes, little-endian, C order. Read through ctypes rather
    than numpy: Debian's torch 1.13 cannot talk to numpy 2."""
    import ctypes
    t = t.detach().to("cpu").contiguous()
    if sys.byteorder != "little":
        raise SystemExit("error: this tool writes little-endian files on little-endian machines only")
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


def save_builtin(torch, tensors, path, metadata):
    """The reference serializer's bytes, without the safetensors package."""
    items = sorted(tensors.items(),
                   key=lambda kv: (-_RANK.index(_dtype_name(torch, kv[1].dtype)), kv[0].encode()))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name, t in items:
        data = _tensor_bytes(torch, t)
        header[name] = {"dtype": _dtype_name(torch, t.dtype), "shape": list(t.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def write_atomically(write, path):
    """write(tmp) then rename over path: a failure or Ctrl-C leaves the old
    file (if any) and no half-written one."""
    import os
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def get_builder(torchvision, name):
    models = torchvision.models
    if hasattr(models, "get_model_builder"):
        try:
            return models.get_model_builder(name)
        except ValueError:
            pass
    fn = getattr(models, name, None)
    # only lower-case builders (resnet50, ...), not classes or helpers
    # (ResNet, get_model) that happen to be callable
    if fn is None or not callable(fn) or name != name.lower() or name.startswith(("get_", "list_")):
        raise SystemExit("error: torchvision has no model %r (see --list-models)" % name)
    return fn


def resolve_weights(torchvision, name, weights):
    """The weights enum value for `weights` ('DEFAULT', 'IMAGENET1K_V1', ...),
    or None for 'none'."""
    if weights.lower() == "none":
        return None
    models = torchvision.models
    if hasattr(models, "get_model_weights"):
        enum = models.get_model_weights(name)
    else:
        raise SystemExit("error: this torchvision is too old for --weights; need >= 0.14")
    key = weights.split(".")[-1]
    try:
        return enum[key]
    except KeyError:
        raise SystemExit("error: %s has no weights %r; choose from: DEFAULT, %s" % (
            name, weights, ", ".join(e.name for e in enum)))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", help="torchvision model name: resnet18, resnet34, "
                    "resnet50, resnet101, resnet152, mobilenet_v3_large, ...")
    ap.add_argument("-o", "--out", help="output .safetensors file")
    ap.add_argument("--weights", default="DEFAULT",
                    help="DEFAULT (the best published set; the default), a set name such as "
                         "IMAGENET1K_V1 or IMAGENET1K_V2, or 'none' for random initialisation "
                         "(seeded by --seed, no download)")
    ap.add_argument("--dtype", choices=["keep", "f32", "f16", "bf16"], default="keep",
                    help="store floating-point tensors as this type (integer buffers such as "
                         "num_batches_tracked stay I64); default: keep")
    ap.add_argument("--seed", type=int, default=0, help="torch seed for --weights none")
    ap.add_argument("--list-models", action="store_true", help="list torchvision's models")
    ap.add_argument("--list-weights", action="store_true", help="list the model's weight sets")
    args = ap.parse_args(argv)

    try:
        import torch
        import torchvision
    except ImportError as e:
        raise SystemExit("error: this tool needs PyTorch and torchvision (%s); install them, "
                         "e.g. pip install torch torchvision, or apt-get install "
                         "python3-torch python3-torchvision" % e)

    if args.list_models:
        names = (torchvision.models.list_models() if hasattr(torchvision.models, "list_models")
                 else sorted(n for n in dir(torchvision.models)
                             if not n.startswith("_") and n[0].islower()
                             and callable(getattr(torchvision.models, n))))
        print("\n".join(names))
        return 0
    if not args.model:
        ap.error("a model name is needed")
    builder = get_builder(torchvision, args.model)
    if args.list_weights:
        enum = torchvision.models.get_model_weights(args.model)
        for e in enum:
            acc = e.meta.get("_metrics", {}).get("ImageNet-1K", {}).get("acc@1")
            print("%s%s" % (e.name, "  (ImageNet-1K acc@1 %s)" % acc if acc else ""))
        print("DEFAULT = %s" % enum.DEFAULT.name)
        return 0
    if not args.out:
        ap.error("--out is needed")

    weights = resolve_weights(torchvision, args.model, args.weights)
    if weights is None:
        torch.manual_seed(args.seed)
    try:
        model = builder(weights=weights)
    except OSError as e:  # urllib's URLError is an OSError
        url = getattr(weights, "url", "?")
        raise SystemExit(
            "error: cannot download the %s weights of %s from %s (%s).\n"
            "This needs internet access once; torchvision then keeps the file in "
            "$TORCH_HOME/hub/checkpoints (default ~/.cache/torch/hub/checkpoints). On an "
            "offline machine, copy the file there from a machine that has it."
            % (weights.name, args.model, url, e))
    model.eval()

    target = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}.get(args.dtype)
    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().to("cpu")
        if target is not None and v.is_floating_point():
            v = v.to(target)
        tensors[k] = v.contiguous().clone()

    meta = {"format": "pt", "source": "torchvision", "model": args.model,
            "weights": weights.name if weights is not None else "none",
            "torch_version": torch.__version__, "torchvision_version": torchvision.__version__}
    if weights is not None:
        acc = weights.meta.get("_metrics", {}).get("ImageNet-1K", {})
        if acc:
            meta["imagenet_acc1"] = str(acc.get("acc@1"))
            meta["imagenet_acc5"] = str(acc.get("acc@5"))
        tf = weights.transforms()
        for attr in ("resize_size", "crop_size"):
            v = getattr(tf, attr, None)
            if v is not None:
                meta[attr] = json.dumps(list(v) if isinstance(v, (list, tuple)) else v)
    if args.weights.lower() == "none":
        meta["seed"] = str(args.seed)

    try:
        from safetensors.torch import save_file
    except ImportError:
        save_file = None
    if save_file is not None:
        write_atomically(lambda p: save_file(tensors, p, metadata=meta), args.out)
    else:
        write_atomically(lambda p: save_builtin(torch, tensors, p, meta), args.out)
    n = sum(t.numel() for t in tensors.values())
    print("%s: %d tensors, %d values (%s weights) -> %s" % (
        args.model, len(tensors), n, meta["weights"], args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
