#!/usr/bin/python3
"""PyTorch references for tests/models (Debian's python3-torch 1.13 and
python3-torchvision 0.14), run by the C tests at test time:

    ref_models.py COMMAND DIR

Tensors cross in safetensors files (read and written here without the
`safetensors` package, which Debian does not ship); each command reads
DIR/<command>.json, written by the C side:

  keys    torchvision's state_dict keys, dtypes and shapes of resnetD with
          num_classes = K (the seed's head: fc = Linear(in, K)), one file
          DIR/tv_<D>.txt per depth, a line "key dtype d0 d1 ..." per tensor.
  resnet  DIR/weights.safetensors (aigtatt's state_dict) loaded strictly into
          torchvision's resnetD; with DIR/inputs.safetensors (x, dy) writes
          DIR/out.safetensors: eval.embedding, train.embedding, and after
          one train-mode backward of sum(embedding * dy): grad:<key> of every
          parameter and <key> of every buffer (updated running stats); with
          "float64" in the json also eval64.embedding, train64.embedding,
          grad64:<key> and buf64:<key> from the same passes in float64.
  loss    for each case DIR/<case>/in.safetensors (emb, loss.weight,
          loss.bias, labels) -> DIR/<case>/out.safetensors (loss,
          grad:emb, grad:loss.weight, grad:loss.bias) with the reference
          ArcFace / CosFace / softmax below; also records whether the naive
          ArcFace (no clamp under the square root) gives a non-finite value.
  sched   the learning rate of every step from torch.optim.lr_scheduler,
          for each schedule case -> DIR/sched_out.safetensors.
  optsteps  an embedding and ArcFace's class centres trained for a few
          steps with the optimizer and learning rates of each case
          -> DIR/<case>/out.safetensors (losses, final emb and loss.weight).
  train   ResNet + ArcFace trained with torch.optim.SGD from
          DIR/weights.safetensors on the batches of DIR/batches.safetensors
          with the learning rates of the json, in each of the json's dtypes
          (float32, float64) -> DIR/out.safetensors: losses.<dtype> (F64)
          and the final state as <dtype>/<key>.

Everything runs in float32 on the CPU (train also in float64), single-
threaded unless the json says otherwise, deterministic algorithms on."""
import json
import math
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # the C test turns this into a clear failure
    print("ref_models.py needs PyTorch, torchvision and NumPy: apt-get install -y python3-torch "
          "python3-torchvision python3-numpy (%s)" % e, file=sys.stderr)
    sys.exit(3)

torch.use_deterministic_algorithms(True)

# ---- safetensors (the subset the tests use) ----

_DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
_NAME = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}


def st_read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for key, v in header.items():
        if key == "__metadata__":
            continue
        a, b = v["data_offsets"]
        arr = np.frombuffer(raw[base + a:base + b], dtype=_DT[v["dtype"]]).reshape(v["shape"])
        out[key] = torch.from_numpy(arr.copy())
    return out


def st_write(path, tensors):
    header, blobs, off = {}, [], 0
    for key in sorted(tensors):
        t = tensors[key]
        a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
        if a.dtype.kind in "iu":
            a = a.astype(np.int64)
        elif a.dtype != np.float64:
            a = a.astype(np.float32)
        data = np.ascontiguousarray(a).tobytes()
        header[key] = {"dtype": _NAME[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def load_json(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        return json.load(f)


def resnet(depth, k):
    return getattr(torchvision.models, "resnet%d" % depth)(weights=None, num_classes=k)


# ---- the losses, as the seed's recipe writes them ----

SIN2_MIN = 1e-7  # plugins/loss/margin/losses.c


def margin_logits(kind, emb, w, labels, classes, s, m, easy_margin, naive=False):
    cos = F.linear(F.normalize(emb, dim=1), F.normalize(w, dim=1))
    if kind == "cosface":
        phi = cos - m
    else:
        sin2 = 1.0 - cos * cos
        sin = torch.sqrt(sin2) if naive else torch.sqrt(torch.clamp(sin2, SIN2_MIN, 1.0))
        phi = cos * math.cos(m) - sin * math.sin(m)
        if easy_margin:
            phi = torch.where(cos > 0, phi, cos)
        else:
            phi = torch.where(cos > math.cos(math.pi - m), phi, cos - math.sin(math.pi - m) * m)
    oh = F.one_hot(labels, classes).float()
    return s * (oh * phi + (1.0 - oh) * cos)


def loss_of(case, emb, w, b, labels):
    if case["kind"] == "softmax":
        return F.cross_entropy(F.linear(emb, w, b), labels)
    return F.cross_entropy(margin_logits(case["kind"], emb, w, labels, case["classes"], case["s"], case["m"],
                                         case.get("easy_margin", False)), labels)


# ---- commands ----

def cmd_keys(d):
    spec = load_json(d, "keys")
    names = {torch.float32: "F32", torch.int64: "I64"}
    for depth in spec["depths"]:
        sd = resnet(depth, spec["K"]).state_dict()
        with open(os.path.join(d, "tv_%d.txt" % depth), "w") as f:
            for key, t in sd.items():
                f.write(" ".join([key, names[t.dtype]] + [str(x) for x in t.shape]) + "\n")


def cmd_resnet(d):
    spec = load_json(d, "resnet")
    torch.set_num_threads(spec.get("threads", 1))
    model = resnet(spec["depth"], spec["K"])
    model.load_state_dict(st_read(os.path.join(d, "weights.safetensors")), strict=True)
    inp = st_read(os.path.join(d, "inputs.safetensors"))
    x, dy = inp["x"], inp["dy"]
    out = {}
    model.eval()
    with torch.no_grad():
        out["eval.embedding"] = model(x)
    model.train()
    y = model(x)
    out["train.embedding"] = y
    (y * dy).sum().backward()
    for key, p in model.named_parameters():
        out["grad:" + key] = p.grad
    for key, b in model.named_buffers():
        out[key] = b
    if spec.get("float64"):
        # the same train-mode pass in float64: train-mode batch norm over
        # two images makes some gradients ill-conditioned, so float32 is
        # not a reference for them
        model = resnet(spec["depth"], spec["K"])
        model.load_state_dict(st_read(os.path.join(d, "weights.safetensors")), strict=True)
        model = model.double()
        model.eval()
        with torch.no_grad():
            out["eval64.embedding"] = model(x.double())
        model.train()
        y = model(x.double())
        out["train64.embedding"] = y.detach().clone()
        (y * dy.double()).sum().backward()
        for key, p in model.named_parameters():
            out["grad64:" + key] = p.grad
        for key, b in model.named_buffers():
            out["buf64:" + key] = b
    st_write(os.path.join(d, "out.safetensors"), out)


def cmd_loss(d):
    for case in load_json(d, "loss"):
        cd = os.path.join(d, case["name"])
        t = st_read(os.path.join(cd, "in.safetensors"))
        emb = t["emb"].clone().requires_grad_(True)
        w = t["loss.weight"].clone().requires_grad_(True)
        b = t["loss.bias"].clone().requires_grad_(True) if "loss.bias" in t else None
        labels = t["labels"]
        loss = loss_of(case, emb, w, b, labels)
        loss.backward()
        out = {"loss": loss.detach().reshape(1), "grad:emb": emb.grad, "grad:loss.weight": w.grad}
        if b is not None:
            out["grad:loss.bias"] = b.grad
        if case["kind"] == "arcface":
            # what happens without the clamp under the square root
            e2 = t["emb"].clone().requires_grad_(True)
            w2 = t["loss.weight"].clone().requires_grad_(True)
            l2 = F.cross_entropy(margin_logits("arcface", e2, w2, labels, case["classes"], case["s"], case["m"],
                                               case.get("easy_margin", False), naive=True), labels)
            l2.backward()
            bad = not (torch.isfinite(l2).item() and torch.isfinite(e2.grad).all().item()
                       and torch.isfinite(w2.grad).all().item())
            out["naive_nonfinite"] = torch.tensor([1.0 if bad else 0.0])
        st_write(os.path.join(cd, "out.safetensors"), out)


def cmd_sched(d):
    out = {}
    for case in load_json(d, "sched"):
        p = torch.nn.Parameter(torch.zeros(1))
        base = case["lr"]
        spe, epochs, warm = case["steps_per_epoch"], case["epochs"], case.get("warmup_epochs", 0)
        opt = torch.optim.SGD([p], lr=base)
        lrs = []
        W = warm * spe
        warmup = torch.optim.lr_scheduler.LinearLR(opt, start_factor=case.get("warmup_start_factor", 0.1),
                                                   total_iters=W) if W else None
        main = None
        for epoch in range(epochs):
            for step in range(spe):
                g = epoch * spe + step
                if warmup is not None and g == W:
                    # the warmup is over: a fresh schedule from the base lr
                    opt = torch.optim.SGD([p], lr=base)
                    warmup = None
                if warmup is None and main is None:
                    main = make_sched(opt, case, epochs - warm, spe)
                lrs.append(opt.param_groups[0]["lr"])
                opt.step()
                if warmup is not None:
                    warmup.step()
                elif case.get("interval", "epoch") == "step":
                    main.step()
            if warmup is None and main is not None and case.get("interval", "epoch") == "epoch":
                main.step()
        out[case["name"]] = torch.tensor(lrs, dtype=torch.float64)
    st_write(os.path.join(d, "sched_out.safetensors"), out)


def make_sched(opt, case, epochs, spe):
    s = case["schedule"]
    unit = spe if case.get("interval", "epoch") == "step" else 1
    S = torch.optim.lr_scheduler
    if s == "constant":
        return S.LambdaLR(opt, lambda e: 1.0)
    if s == "step":
        return S.StepLR(opt, step_size=case["step_size"] * unit, gamma=case["gamma"])
    if s == "multistep":
        return S.MultiStepLR(opt, milestones=[m * unit for m in case["milestones"]], gamma=case["gamma"])
    if s == "exponential":
        return S.ExponentialLR(opt, gamma=case["gamma"] ** (1.0 / unit))
    if s == "cosine":
        t_max = case.get("t_max", 0) or epochs
        return S.CosineAnnealingLR(opt, T_max=t_max * unit, eta_min=case.get("eta_min", 0.0))
    raise ValueError(s)


def make_optim(kind, h, params, lr):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=h["momentum"], dampening=h["dampening"],
                               weight_decay=h["weight_decay"], nesterov=bool(h["nesterov"]),
                               maximize=bool(h["maximize"]))
    cls = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
    return cls(params, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"],
               amsgrad=bool(h["amsgrad"]), maximize=bool(h["maximize"]))


def cmd_optsteps(d):
    for case in load_json(d, "optsteps"):
        cd = os.path.join(d, case["name"])
        t = st_read(os.path.join(cd, "in.safetensors"))
        emb = torch.nn.Parameter(t["emb"].clone())
        w = torch.nn.Parameter(t["loss.weight"].clone())
        opt = make_optim(case["kind"], case["h"], [emb, w], case["lr"][0])
        losses = []
        for lr in case["lr"]:
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            loss = loss_of(case["loss"], emb, w, None, t["labels"])
            losses.append(loss.item())
            loss.backward()
            opt.step()
        st_write(os.path.join(cd, "out.safetensors"),
                 {"losses": torch.tensor(losses, dtype=torch.float64), "emb": emb, "loss.weight": w})


def cmd_train(d):
    spec = load_json(d, "train")
    torch.set_num_threads(spec.get("threads", 1))
    state0 = st_read(os.path.join(d, "weights.safetensors"))
    batches = st_read(os.path.join(d, "batches.safetensors"))
    case = {"kind": "arcface", "classes": spec["classes"], "s": spec["s"], "m": spec["m"],
            "easy_margin": spec.get("easy_margin", False)}
    out = {}
    for dtype in spec.get("dtypes", ["float32"]):
        dt = getattr(torch, dtype)
        state = dict(state0)
        w = torch.nn.Parameter(state.pop("loss.weight").to(dt).clone())  # never train state0 in place
        model = resnet(spec["depth"], spec["K"])
        model.load_state_dict(state, strict=True)
        model = model.to(dt)  # buffers too; num_batches_tracked stays int64
        model.train()
        opt = torch.optim.SGD(list(model.parameters()) + [w], lr=spec["lr"][0], momentum=spec["momentum"],
                              weight_decay=spec["weight_decay"], nesterov=bool(spec["nesterov"]))
        losses = []
        for k, lr in enumerate(spec["lr"]):
            for group in opt.param_groups:
                group["lr"] = lr
            b = k % spec["nbatches"]
            x, labels = batches["x%d" % b].to(dt), batches["labels%d" % b]
            opt.zero_grad()
            loss = loss_of(case, model(x), w, None, labels)
            losses.append(loss.item())
            loss.backward()
            opt.step()
        out["losses." + dtype] = torch.tensor(losses, dtype=torch.float64)
        out[dtype + "/loss.weight"] = w.double()
        for key, t in model.state_dict().items():
            out[dtype + "/" + key] = t.double() if t.is_floating_point() else t
    st_write(os.path.join(d, "out.safetensors"), out)


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    {"keys": cmd_keys, "resnet": cmd_resnet, "loss": cmd_loss, "sched": cmd_sched, "optsteps": cmd_optsteps,
     "train": cmd_train}[cmd](d)


if __name__ == "__main__":
    main()
