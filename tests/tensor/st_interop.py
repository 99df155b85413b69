#!/usr/bin/env python3
"""The Python side of tests/tensor/test_st_python.c: files written by
aigtatt must load in the reference package (safetensors.numpy.load_file,
safetensors.torch.load_file) and files written by the reference must load in
aigtatt.

Usage:
  st_interop.py probe MODULE...          exit 0 if every module imports, else 3
  st_interop.py numpy-write OUT          the "np" set, one metadata key
  st_interop.py numpy-write-meta OUT     no tensors, several metadata keys
  st_interop.py numpy-check IN           IN holds exactly the "np" set + META
  st_interop.py torch-write OUT          the "pt" set, one metadata key
  st_interop.py torch-check IN           IN holds exactly the "pt" set + META
  st_interop.py torch-keys MODEL OUT     torchvision MODEL's state_dict as
                                         JSON {name: [dtype, shape]}
  st_interop.py torch-fake-hub MODEL WEIGHTS RAW
                                         puts a random (seed 1) state_dict of
                                         MODEL where torchvision caches the
                                         WEIGHTS download ($TORCH_HOME), so the
                                         converter's pretrained path runs
                                         offline; writes its fc.bias as raw
                                         float32 to RAW

The tensor sets and their values are defined here and, identically, in
test_st_python.c (SPECS, value()): element i of a tensor is
  F64/F32/F16/BF16: ((i * 5) % 17) * 0.25 - 2
  signed ints:      ((i * 37) % 201 - 100) * SCALE
  unsigned ints:    ((i * 37) % 251) * SCALE
  BOOL:             i % 3 == 0
with SCALE 1 for 8 bits, 300 / 257 for I16 / U16, 65537 / 16777217 for
I32 / U32, 4294967311 / 0x0101010101010101 for I64 / U64.

Needs: numpy and safetensors (pip install safetensors numpy); the torch
modes need torch too (and torchvision for torch-keys). A missing module
exits with status 3 and says which.
"""
import importlib.util
import json
import struct
import sys

SPECS = [
    # name, dtype, shape, in the numpy set, in the torch set
    ("w.f64", "F64", [2, 3], True, True),
    ("w.f32", "F32", [4, 5], True, True),
    ("w.f16", "F16", [3], True, True),
    ("w.bf16", "BF16", [2, 2], False, True),
    ("i64", "I64", [5], True, True),
    ("i32", "I32", [2, 2], True, True),
    ("i16", "I16", [3], True, True),
    ("i8", "I8", [7], True, True),
    ("u8", "U8", [9], True, True),
    ("u16", "U16", [2], True, False),
    ("u32", "U32", [3], True, False),
    ("u64", "U64", [2], True, False),
    ("mask", "BOOL", [5], True, True),
    ("scalar", "F32", [], True, True),
    ("empty", "F32", [0, 3], True, True),
    ("empty.i64", "I64", [2, 0], True, True),
    ("\u00fcn\u00ef/\u03ba.weight", "F32", [2], True, True),
    ("z\"q\\b", "F32", [1], True, True),
]

META_ONE = {"format": "interop"}
META_MANY = {
    "format": "pt",
    "note": "quote \" backslash \\ newline \n tab \t \u00fcn\u00efc\u00f8de",
    "empty": "",
    "\u00e9t\u00e9": "summer",
}

SCALE = {"I8": 1, "U8": 1, "I16": 300, "U16": 257, "I32": 65537, "U32": 16777217,
         "I64": 4294967311, "U64": 0x0101010101010101}


def value(dtype, i):
    if dtype in ("F64", "F32", "F16", "BF16"):
        return ((i * 5) % 17) * 0.25 - 2.0
    if dtype == "BOOL":
        return i % 3 == 0
    if dtype.startswith("I"):
        return ((i * 37) % 201 - 100) * SCALE[dtype]
    return ((i * 37) % 251) * SCALE[dtype]


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def need(*mods):
    missing = [m for m in mods if importlib.util.find_spec(m) is None]
    if missing:
        sys.stderr.write("st_interop.py: %s cannot import %s; install with: "
                         "python3 -m pip install %s\n"
                         % (sys.executable, ", ".join(missing), " ".join(missing)))
        sys.exit(3)


def np_dtype(dtype):
    import numpy as np
    return {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
            "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
            "U16": np.uint16, "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}[dtype]


def torch_dtype(dtype):
    import torch
    return {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
            "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
            "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
            "BOOL": torch.bool}[dtype]


def expected_list(dtype, shape):
    return [value(dtype, i) for i in range(numel(shape))]


def np_array(dtype, shape):
    import numpy as np
    return np.array(expected_list(dtype, shape), dtype=np_dtype(dtype)).reshape(shape)


def torch_tensor(dtype, shape):
    import torch
    return torch.tensor(expected_list(dtype, shape), dtype=torch_dtype(dtype)).reshape(shape)


def fail(msg):
    sys.stderr.write("st_interop.py: " + msg + "\n")
    sys.exit(1)


def check_meta(path, want):
    from safetensors import safe_open
    with safe_open(path, framework="np") as f:
        got = f.metadata() or {}
    if got != want:
        fail("%s: metadata %r, expected %r" % (path, got, want))


def check_set(path, loaded, torch_set):
    want = [s for s in SPECS if (s[4] if torch_set else s[3])]
    names = sorted(s[0] for s in want)
    if sorted(loaded.keys()) != names:
        fail("%s: tensors %r, expected %r" % (path, sorted(loaded.keys()), names))
    for name, dtype, shape, _np, _pt in want:
        t = loaded[name]
        if torch_set:
            if t.dtype != torch_dtype(dtype):
                fail("%s: %r has dtype %s, expected %s" % (path, name, t.dtype, dtype))
            got = t.reshape(-1).tolist()
        else:
            if t.dtype != np_dtype(dtype):
                fail("%s: %r has dtype %s, expected %s" % (path, name, t.dtype, dtype))
            got = t.reshape(-1).tolist()
        if list(t.shape) != shape:
            fail("%s: %r has shape %r, expected %r" % (path, name, list(t.shape), shape))
        if got != expected_list(dtype, shape):
            fail("%s: %r holds %r, expected %r" % (path, name, got, expected_list(dtype, shape)))


def main(argv):
    if len(argv) < 2 or len(argv) > 5:
        fail("usage: see the docstring")
    mode = argv[1]
    if mode == "probe":
        need(*argv[2:])
        return 0
    if mode.startswith("numpy"):
        need("numpy", "safetensors")
        import safetensors.numpy as snp
        if mode == "numpy-write":
            snp.save_file({n: np_array(d, s) for n, d, s, in_np, _ in SPECS if in_np},
                          argv[2], metadata=META_ONE)
        elif mode == "numpy-write-meta":
            snp.save_file({}, argv[2], metadata=META_MANY)
        elif mode == "numpy-check":
            check_set(argv[2], snp.load_file(argv[2]), False)
            check_meta(argv[2], META_MANY)
        else:
            fail("unknown mode " + mode)
        return 0
    if mode == "torch-fake-hub":
        need("torch", "torchvision")
        import os
        import torch
        import torchvision
        w = torchvision.models.get_model_weights(argv[2])[argv[3]]
        torch.manual_seed(1)
        sd = getattr(torchvision.models, argv[2])(weights=None).state_dict()
        hub = os.path.join(torch.hub.get_dir(), "checkpoints")
        os.makedirs(hub, exist_ok=True)
        torch.save(sd, os.path.join(hub, os.path.basename(w.url)))
        with open(argv[4], "wb") as f:
            f.write(struct.pack("<%df" % sd["fc.bias"].numel(), *sd["fc.bias"].tolist()))
        return 0
    if mode.startswith("torch-keys"):
        need("torch", "torchvision")
        import torch
        import torchvision
        model = getattr(torchvision.models, argv[2])(weights=None)
        names = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16",
                 torch.float64: "F64", torch.bfloat16: "BF16"}
        out = {k: [names[v.dtype], list(v.shape)] for k, v in model.state_dict().items()}
        with open(argv[3], "w") as f:
            json.dump(out, f)
        return 0
    if mode.startswith("torch"):
        need("numpy", "torch", "safetensors")
        import safetensors.torch as spt
        if mode == "torch-write":
            spt.save_file({n: torch_tensor(d, s) for n, d, s, _, in_pt in SPECS if in_pt},
                          argv[2], metadata=META_ONE)
        elif mode == "torch-check":
            check_set(argv[2], spt.load_file(argv[2]), True)
            check_meta(argv[2], META_MANY)
        else:
            fail("unknown mode " + mode)
        return 0
    fail("unknown mode " + mode)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
