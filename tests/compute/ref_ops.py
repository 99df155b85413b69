#!/usr/bin/python3
"""PyTorch references for tests/compute (Debian's python3-torch 1.13).

    ref_ops.py DIR

DIR/cases.json lists op cases written by test_parity.c: for each case the
op key, integer attributes i, real attributes r, whether it runs in training
mode, and its inputs (DIR/<case>/in<k>.npy with a kind letter, see ct.h).
For each case this writes DIR/<case>/y.npy (the output), grad<k>.npy for
every trainable input (the gradient of sum(y * dy), dy from dy.npy) and
buf<k>.npy for buffers after the call (running statistics).

DIR/optim.json, when present, lists optimizer runs (test_optim.c): a
parameter trained for a few steps on loss = sum(c * p^2) + sum(d * p) with
learning rates lr[k]; this writes p.npy, the state tensors and losses.npy.

Every value is float32 on the CPU, as the C side computes."""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the C test turns this into a clear failure
    print("ref_ops.py needs PyTorch and NumPy: apt-get install -y python3-torch python3-torchvision "
          "python3-numpy (%s)" % e, file=sys.stderr)
    sys.exit(3)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

UNARY = {
    1: torch.relu, 2: F.relu6, 3: F.hardswish, 4: F.hardsigmoid, 5: F.silu,
    6: lambda x: F.gelu(x), 7: lambda x: F.gelu(x, approximate="tanh"),
    8: torch.sigmoid, 9: torch.tanh, 10: torch.exp, 11: torch.log, 12: torch.sqrt,
    13: torch.neg, 14: torch.abs,
}
BINARY = {
    1: torch.add, 2: torch.sub, 3: torch.mul, 4: torch.div, 5: torch.maximum, 6: torch.minimum,
    7: lambda a, b: torch.gt(a, b).float(),
}


def arcface(t, i, r):
    s, m = r[0], r[1]
    e, w, labels = t
    cos = F.normalize(e, dim=1, eps=1e-12) @ F.normalize(w, dim=1, eps=1e-12).t()
    sin = torch.sqrt(torch.clamp(1.0 - cos * cos, 1e-6, 1.0))
    phi = cos * math.cos(m) - sin * math.sin(m)
    phi = torch.where(cos > math.cos(math.pi - m), phi, cos - math.sin(math.pi - m) * m)
    oh = F.one_hot(labels, i[0]).float()
    return F.cross_entropy(s * (oh * phi + (1.0 - oh) * cos), labels)


def batch_norm(t, i, r, training):
    x, w, b = t[0], t[1], t[2]
    rm = t[3] if len(t) > 3 else None
    rv = t[4] if len(t) > 4 else None
    momentum = r[0]
    if len(t) > 5 and training:  # what nn.BatchNorm does around F.batch_norm
        t[5].add_(1)
        if momentum < 0:
            momentum = 1.0 / float(t[5].item())
    return F.batch_norm(x, rm, rv, w, b, training, momentum, r[1])


def op_result(case, t):
    op, i, r, training = case["op"], case["i"], case["r"], case["training"]
    if op == "conv2d":
        return F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, stride=(i[0], i[1]), padding=(i[2], i[3]),
                        dilation=(i[4], i[5]), groups=i[6])
    if op == "batch_norm":
        return batch_norm(t, i, r, training)
    if op == "layer_norm":
        return F.layer_norm(t[0], t[0].shape[-i[0]:], t[1] if len(t) > 1 else None,
                            t[2] if len(t) > 2 else None, eps=r[0])
    if op == "linear":
        return F.linear(t[0], t[1], t[2] if len(t) > 2 else None)
    if op == "matmul":
        a = t[0].transpose(-1, -2) if i[0] else t[0]
        b = t[1].transpose(-1, -2) if i[1] else t[1]
        return torch.matmul(a, b)
    if op == "pool2d":
        k, s, p = (i[1], i[2]), (i[3], i[4]), (i[5], i[6])
        if i[0]:
            return F.max_pool2d(t[0], k, s, p, ceil_mode=bool(i[7]))
        return F.avg_pool2d(t[0], k, s, p, ceil_mode=bool(i[7]), count_include_pad=bool(i[8]))
    if op == "global_avg_pool":
        return F.adaptive_avg_pool2d(t[0], (1, 1))
    if op == "unary":
        return UNARY[i[0]](t[0])
    if op == "binary":
        return BINARY[i[0]](t[0], t[1])
    if op == "square":
        return t[0] * t[0]
    if op == "affine":
        return t[0] * r[0] + r[1]
    if op == "clamp":
        return torch.clamp(t[0], r[0], None if math.isinf(r[1]) else r[1])
    if op == "where":
        return torch.where(t[0] != 0, t[1], t[2])
    if op == "reshape":
        return t[0].reshape(i[1:1 + i[0]])
    if op == "permute":
        return t[0].permute(i[1:1 + i[0]])
    if op == "roll":
        n = i[0]
        return torch.roll(t[0], shifts=tuple(i[1:1 + n]), dims=tuple(i[1 + n:1 + 2 * n]))
    if op == "slice":
        idx = [slice(None)] * t[0].dim()
        idx[i[0]] = slice(i[1], i[2], i[3])
        return t[0][tuple(idx)]
    if op == "concat":
        return torch.cat(t, dim=i[0])
    if op == "pad":
        return F.pad(t[0], tuple(i[1:1 + 2 * i[0]]), value=r[0])
    if op == "reduce":
        dims = tuple(i[3:3 + i[2]]) if i[2] else tuple(range(t[0].dim()))
        keep = bool(i[1])
        if i[0] == 1:
            return torch.sum(t[0], dim=dims, keepdim=keep)
        if i[0] == 2:
            return torch.mean(t[0], dim=dims, keepdim=keep)
        return torch.amax(t[0], dim=dims, keepdim=keep)
    if op == "softmax":
        return F.softmax(t[0], dim=i[0])
    if op == "l2_normalize":
        return F.normalize(t[0], dim=i[0], eps=r[0])
    if op == "one_hot":
        return F.one_hot(t[0], i[0]).float()
    if op == "cross_entropy":
        return F.cross_entropy(t[0], t[1])
    if op == "block":
        h = F.conv2d(t[0], t[1], None, padding=1)
        h = F.batch_norm(h, None, None, t[2], t[3], True, r[0], r[1])
        return torch.relu(h + t[0])
    if op == "arcface":
        return arcface(t, i, r)
    raise ValueError("unknown op " + op)


def save(path, tensor):
    a = tensor.detach().cpu().numpy()
    a = a.astype(np.int64) if a.dtype.kind in "iu" else a.astype(np.float32)
    np.save(path, np.ascontiguousarray(a))


def run_case(root, case):
    d = os.path.join(root, case["name"])
    tensors = []
    for k, inp in enumerate(case["inputs"]):
        a = np.load(os.path.join(d, "in%d.npy" % k))
        kind = inp["kind"]
        if kind in "ln":
            tensors.append(torch.from_numpy(a.astype(np.int64)).clone())
        else:
            x = torch.from_numpy(a.astype(np.float32)).clone()
            if kind in "pqz":
                x.requires_grad_(True)
            tensors.append(x)
    y = op_result(case, list(tensors))
    save(os.path.join(d, "y.npy"), y)
    dy_path = os.path.join(d, "dy.npy")
    if os.path.exists(dy_path) and y.requires_grad:
        dy = torch.from_numpy(np.load(dy_path).astype(np.float32))
        y.backward(dy.reshape(y.shape))
    for k, inp in enumerate(case["inputs"]):
        x = tensors[k]
        if inp["kind"] in "pqz":
            g = x.grad if x.grad is not None else torch.zeros_like(x)
            save(os.path.join(d, "grad%d.npy" % k), g)
        elif inp["kind"] in "mvn":
            save(os.path.join(d, "buf%d.npy" % k), x)


def run_optim(root, spec):
    d = os.path.join(root, spec["name"])
    p = torch.nn.Parameter(torch.from_numpy(np.load(os.path.join(d, "p.npy")).astype(np.float32)))
    c = torch.from_numpy(np.load(os.path.join(d, "c.npy")).astype(np.float32))
    dd = torch.from_numpy(np.load(os.path.join(d, "d.npy")).astype(np.float32))
    kind, h = spec["kind"], spec["h"]
    if kind == "sgd":
        opt = torch.optim.SGD([p], lr=spec["lr"][0], momentum=h["momentum"], dampening=h["dampening"],
                              weight_decay=h["weight_decay"], nesterov=bool(h["nesterov"]),
                              maximize=bool(h["maximize"]))
    else:
        cls = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
        opt = cls([p], lr=spec["lr"][0], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                  weight_decay=h["weight_decay"], amsgrad=bool(h["amsgrad"]), maximize=bool(h["maximize"]))
    losses = []
    for lr in spec["lr"]:
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss = torch.sum(c * p * p) + torch.sum(dd * p)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    save(os.path.join(d, "p_out.npy"), p)
    np.save(os.path.join(d, "losses.npy"), np.array(losses, dtype=np.float64))
    for key, val in opt.state[p].items():
        if torch.is_tensor(val) and val.dim() > 0:
            save(os.path.join(d, key + ".npy"), val)


def main():
    root = sys.argv[1]
    path = os.path.join(root, "cases.json")
    if os.path.exists(path):
        with open(path) as f:
            for case in json.load(f):
                run_case(root, case)
    path = os.path.join(root, "optim.json")
    if os.path.exists(path):
        with open(path) as f:
            for spec in json.load(f):
                run_optim(root, spec)


if __name__ == "__main__":
    main()
