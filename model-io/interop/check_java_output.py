"""Checks a file written by model-io's SafetensorsWriter with the official reader and PyTorch.

The Java side (ReferenceInteropTest, when -Dmodelio.interop.out=FILE is set) writes `source`
(F32) and `w.<DTYPE>` = our narrowing of it. Here safetensors loads the file and every `w.<DTYPE>`
must equal torch's `source.to(dtype)` bit for bit (NaN compared as NaN; E4M3 inputs are kept
within +-464 by the Java side, where torch and the OCP saturating mode agree).
    python check_java_output.py FILE
"""
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32, "F64": torch.float64,
          "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}
BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def main(path: str) -> int:
    with safe_open(path, "pt") as f:
        print("metadata:", f.metadata())
    t = load_file(path)
    src = t["source"]
    bad = 0
    for name, dtype in DTYPES.items():
        ours = t["w." + name]
        x = src
        if dtype == torch.float8_e4m3fn:
            x = torch.where(src.abs() > 464, torch.zeros_like(src), src)
        theirs = x.to(dtype)
        assert ours.dtype == dtype and ours.shape == src.shape, name
        nan = torch.isnan(theirs.float())
        same_nan = torch.isnan(ours.float()) == nan
        bits = BITS[ours.element_size()]
        same_bits = ours.view(bits) == theirs.view(bits)
        mismatches = int((~(same_nan & (nan | same_bits))).sum())
        print(f"{name}: {ours.numel()} values, {mismatches} differ from torch")
        bad += mismatches
    print("OK" if bad == 0 else "MISMATCH")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
