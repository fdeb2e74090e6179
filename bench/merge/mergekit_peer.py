#!/usr/bin/env python3
"""The merge benchmark's peer: mergekit's own tensor arithmetic for linear, ties and sce, in PyTorch, as a whole
process over the benchmark's safetensors files.

A bench tool only (the product and its tests need no Python). mergekit itself is not on PyPI, and the
`safetensors` package is not installed on the benchmark machines, so this script transcribes the arithmetic of
mergekit (github.com/arcee-ai/mergekit, read at commit a6e4028) and reads and writes safetensors with json,
struct, mmap and torch.frombuffer. What it mirrors, function by function:

- linear: mergekit/merge_methods/linear.py, LinearMergeTask.execute (stack, weights * tensors summed over the
  models, divided by the sum of the weights: `normalize` defaults to true);
- ties: mergekit/merge_methods/generalized_task_arithmetic.py, GTATask.execute with the registry's ties settings
  (mergekit/merge_methods/registry.py: consensus "sum", sparsification "magnitude", normalize true, rescale false),
  get_task_vectors and get_mask; mergekit/sparsify.py, magnitude (ranks |delta| with torch.argsort, widened to
  float32 on the CPU, keeps the first k = int(density * numel));
- sce: mergekit/merge_methods/sce.py, sce_merge, sce_mask (torch.var over the models, unbiased=False,
  k = int(count_nonzero(var) * select_topk), torch.topk) and sce_weight; the sign election is get_mask (sum).

Around the kernels it does what mergekit's executor does for one tensor: load each model's tensor and convert it
to the config's `dtype` (mergekit/io/tasks.py, LoadTensor.execute; here the inputs already are bfloat16, so no
conversion), run the method, convert the result to `out_dtype` (the same dtype here) and keep it in the shard
until the shard is written (mergekit/io/tensor_writer.py, TensorWriter, 5 GB shards by default: every output of
this benchmark fits one shard). Tensors are merged one after another, as mergekit's single-threaded task loop does;
PyTorch's intra-op threads work inside each operation. Not mirrored: the task graph, config parsing, tokenizer and
config-file copying (all small next to the tensor work).

Threads: mergekit leaves PyTorch's intra-op thread count at its default (normally one per core). On the 2-core VMs
this was measured on, that default came out as 1 (omp_get_max_threads() was 1 there), so THREADS, when given, is
passed to torch.set_num_threads; compare.sh gives the same count as Amalgam's.

Usage: mergekit_peer.py METHOD WORKDIR OUT_DIR [THREADS]; WORKDIR holds the models base, m1, m2 (bench/merge/compare.sh
makes them with MergeBench). The merge configs are the same as MergeBench's:
  linear: base 0.4, m1 0.3, m2 0.3; ties: base_model base, m1 and m2 weight 0.5 density 0.5;
  sce: base_model base, m1 and m2, select_topk 0.1; dtype bfloat16 for all.
Prints the seconds spent in the kernels (which include reading the mapped pages they touch first), in the rest
and in writing, to stderr; the whole process is timed outside.
`mergekit_peer.py compare DIR_A DIR_B` says how many output elements of two merges differ, and by how much.
"""

import json
import mmap
import os
import struct
import sys
import time

import torch

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}
NAMES = {v: k for k, v in DTYPES.items()}


class SafetensorsModel:
    """The tensors of one model directory, memory-mapped (safetensors' safe_open maps the file as well)."""

    def __init__(self, path):
        files = sorted(f for f in os.listdir(path) if f.endswith(".safetensors"))
        if not files:
            raise SystemExit(f"no .safetensors files in {path}")
        self.where = {}
        self._maps = []
        for f in files:
            with open(os.path.join(path, f), "rb") as fh:
                # ACCESS_COPY: a private mapping, so torch.frombuffer gets a writable buffer and copies nothing
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
            (n,) = struct.unpack("<Q", mm[:8])
            header = json.loads(mm[8:8 + n])
            header.pop("__metadata__", None)
            self._maps.append(mm)
            for name, info in header.items():
                self.where[name] = (mm, 8 + n, info)

    def names(self):
        return list(self.where)

    def tensor(self, name):
        mm, data_start, info = self.where[name]
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        count = (end - begin) // torch.empty((), dtype=dtype).element_size()
        t = torch.frombuffer(mm, dtype=dtype, count=count, offset=data_start + begin)
        return t.view(info["shape"])


# ---- linear: mergekit/merge_methods/linear.py, LinearMergeTask.execute (normalize=True)
def linear(tensors, weights):
    tensors = torch.stack(tensors, dim=0)
    weights = torch.tensor(weights, dtype=tensors.dtype, device=tensors.device)
    while len(weights.shape) < len(tensors.shape):
        weights.unsqueeze_(-1)
    res = (weights * tensors).sum(dim=0)
    res = res / weights.sum(dim=0)
    return res


# ---- ties: generalized_task_arithmetic.py get_mask, sparsify.py magnitude, GTATask.execute
def get_mask(delta, method="sum", mask_dtype=None):
    if mask_dtype is None:
        mask_dtype = delta.dtype
    sign = delta.sign().to(mask_dtype)
    if method == "sum":
        sign_weight = delta.sum(dim=0)
        majority_sign = (sign_weight >= 0).to(mask_dtype) * 2 - 1
        del sign_weight
    elif method == "count":
        majority_sign = (sign.sum(dim=0) >= 0).to(mask_dtype) * 2 - 1
    else:
        raise RuntimeError(method)
    return sign == majority_sign


def magnitude(tensor, density):
    if density >= 1:
        return tensor
    k = int(density * tensor.numel())
    assert k > 0
    mask = torch.zeros_like(tensor)
    w = tensor.abs().view(-1)
    if w.device.type == "cpu":
        w = w.float()
    topk = torch.argsort(w, descending=True)[:k]
    mask.view(-1)[topk] = 1
    return tensor * mask  # rescaled_masked_tensor with norm None (ties: rescale false)


def ties(base, others, weights, densities):
    tvs = []
    for x, weight, density in zip(others, weights, densities):
        x = x.to(base.dtype)
        delta = x - base
        tvs.append({"delta": magnitude(delta, density), "weight": weight})
    deltas = torch.stack([tv["delta"] for tv in tvs], dim=0)
    weights = torch.tensor([tv["weight"] for tv in tvs], dtype=deltas.dtype, device=deltas.device)
    while len(deltas.shape) > len(weights.shape):
        weights.unsqueeze_(-1)
    weighted_deltas = deltas * weights
    mask = get_mask(weighted_deltas, method="sum", mask_dtype=base.dtype)
    mixed_delta = (weighted_deltas * mask).sum(dim=0)
    divisor = (weights * mask).sum(dim=0)
    divisor[divisor == 0] = 1
    mixed_delta /= divisor  # normalize: true for ties
    return (base + mixed_delta).to(base.dtype)


# ---- sce: mergekit/merge_methods/sce.py
def sce_weight(tvs):
    weights = torch.mean(tvs ** 2, dim=list(range(1, tvs.dim())))
    weight_sum = torch.sum(weights).item()
    if abs(weight_sum) < 1e-6:
        return torch.ones_like(weights) / weights.shape[0]
    return weights / weight_sum


def sce_mask(tvs, density, mask_dtype=None):
    if density <= 0:
        return torch.zeros_like(tvs, dtype=mask_dtype)
    if density >= 1:
        return torch.ones_like(tvs, dtype=mask_dtype)
    var = torch.var(tvs, dim=0, unbiased=False)
    nonzero = torch.count_nonzero(var)
    k = int(nonzero * density)
    if k == 0:
        return torch.zeros_like(tvs, dtype=mask_dtype)
    _, indices = torch.topk(var.abs().view(-1), k=k, largest=True)
    mask = torch.zeros_like(var, dtype=mask_dtype)
    mask.view(-1)[indices] = 1
    return mask


def sce(tensors, base_tensor, select_topk):
    if not tensors:
        return base_tensor
    mask_dtype = base_tensor.dtype
    task_vectors = torch.stack([t - base_tensor for t in tensors], dim=0)
    if select_topk < 1:
        mask = sce_mask(task_vectors, select_topk, mask_dtype)
        task_vectors = task_vectors * mask.unsqueeze(0)
    erase_mask = get_mask(task_vectors, method="sum", mask_dtype=mask_dtype)
    tv_weights = sce_weight(task_vectors)
    while tv_weights.dim() < task_vectors.dim():
        tv_weights = tv_weights.unsqueeze(-1)
    erased_weights = tv_weights * erase_mask
    merged_tv = (task_vectors * erased_weights).sum(dim=0)
    final_tv = merged_tv / torch.sum(erased_weights, dim=0).clamp(min=1e-6)
    return base_tensor + final_tv


def write_safetensors(path, tensors):
    """One shard, as safetensors.torch.save_file writes it: header, then each tensor's bytes in order."""
    header, offset, blobs = {}, 0, []
    for name, t in tensors:
        # safetensors' _tobytes: a contiguous copy of the tensor's bytes
        data = t.contiguous().view(torch.int16 if t.element_size() == 2 else torch.int32).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def compare(a_dir, b_dir):
    """How far two outputs are apart: both merges must do the same work for the timing to mean anything."""
    a, b = SafetensorsModel(a_dir), SafetensorsModel(b_dir)
    if sorted(a.names()) != sorted(b.names()):
        raise SystemExit(f"different tensor names in {a_dir} and {b_dir}")
    n = differ = 0
    worst = 0.0
    for name in a.names():
        x, y = a.tensor(name).float(), b.tensor(name).float()
        if x.shape != y.shape:
            raise SystemExit(f"{name}: shape {list(x.shape)} against {list(y.shape)}")
        d = (x - y).abs()
        n += d.numel()
        differ += int(torch.count_nonzero(d))
        scale = float(y.abs().max()) or 1.0
        worst = max(worst, float(d.max()) / scale)
    print(f"{n} elements, {differ} differ ({100.0 * differ / n:.3f} %), largest difference {worst:.3g} of the "
          f"tensor's largest magnitude")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("linear", "ties", "sce"):
        raise SystemExit("usage: mergekit_peer.py linear|ties|sce WORKDIR OUT_DIR [THREADS]")
    method, work, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if len(sys.argv) == 5:
        torch.set_num_threads(int(sys.argv[4]))
    t0 = time.perf_counter()
    models = {m: SafetensorsModel(os.path.join(work, m)) for m in ("base", "m1", "m2")}
    kernel = 0.0
    shard = []
    for name in models["base"].names():
        base, m1, m2 = (models[m].tensor(name).to(torch.bfloat16) for m in ("base", "m1", "m2"))
        k0 = time.perf_counter()
        with torch.no_grad():
            if method == "linear":
                r = linear([base, m1, m2], [0.4, 0.3, 0.3])
            elif method == "ties":
                r = ties(base, [m1, m2], [0.5, 0.5], [0.5, 0.5])
            else:
                r = sce([m1, m2], base, 0.1)
        shard.append((name, r.to(torch.bfloat16)))
        kernel += time.perf_counter() - k0
    w0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), shard)
    end = time.perf_counter()
    print(f"peer {method}: kernels {kernel:.2f} s, reading and the rest {w0 - t0 - kernel:.2f} s, "
          f"writing {end - w0:.2f} s, torch {torch.__version__}, {torch.get_num_threads()} threads",
          file=sys.stderr)


if __name__ == "__main__":
    main()
