"""Writes model-io's reference test file with PyTorch and the official safetensors package.

Run (needs torch >= 2.3 and safetensors; not part of the build):
    python make_reference.py ../src/test/resources/reference/torch-reference.safetensors

The file holds `source` (F32 inputs: ties, NaN, infinities, subnormals, overflow, random values
over many magnitudes), `to.<DTYPE>` = torch's own narrowing of `source` to each floating dtype,
`widened.<DTYPE>` = torch's widening of that back to F32, and integer/bool tensors with their
F32 values, so the Java tests compare our conversions and reader bit for bit against PyTorch.
"""
import sys

import torch
from safetensors.torch import save_file


def sources() -> torch.Tensor:
    special = [0.0, -0.0, 1.0, -2.0, float("inf"), float("-inf"), float("nan"),
               65504.0, 65519.0, 65520.0, 1e6, -1e6, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25,
               3 * 2.0 ** -25, 2.0 ** -14, 1023.5 * 2.0 ** -24, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11,
               448.0, 464.0, -464.0, 57344.0, 61440.0, 1.0625, 1.1875, 2.0 ** -9, 2.0 ** -10, 2.0 ** -16,
               3.4e38, 1e-40, -1e-45, 3.140625, 0.1, 1.00390625]
    bits = [0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF, 0x7F7FFFFF, 0x00010000]
    special += torch.tensor(bits, dtype=torch.int32).view(torch.float32).tolist()
    g = torch.Generator().manual_seed(0)
    rnd = torch.randn(400, generator=g) * torch.pow(10.0, torch.randint(-9, 6, (400,), generator=g).float())
    return torch.cat([torch.tensor(special, dtype=torch.float32), rnd.float()])


def main(out: str) -> None:
    src = sources()
    t = {"source": src}
    floats = {"BF16": torch.bfloat16, "F16": torch.float16, "F64": torch.float64,
              "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}
    for name, dtype in floats.items():
        x = src
        if dtype == torch.float8_e4m3fn:
            # torch turns |x| > 464 into NaN where model-io saturates to 448: compare inside the range
            x = torch.where(src.abs() > 464, torch.zeros_like(src), src)
        t["to." + name] = x.to(dtype)
        t["widened." + name] = t["to." + name].to(torch.float32)
    ints = {
        "BOOL": torch.tensor([True, False, True]),
        "U8": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "I8": torch.tensor([-128, -1, 127], dtype=torch.int8),
        "I16": torch.tensor([-32768, -300, 32767], dtype=torch.int16),
        "U16": torch.tensor([0, 300, 65535], dtype=torch.uint16),
        "I32": torch.tensor([-2 ** 31, -70000, 2 ** 31 - 1], dtype=torch.int32),
        "U32": torch.tensor([0, 70000, 2 ** 32 - 1], dtype=torch.uint32),
        "I64": torch.tensor([-2 ** 63, -5_000_000_000, 2 ** 63 - 1], dtype=torch.int64),
        "U64": torch.tensor([0, 2 ** 40, 2 ** 64 - 1], dtype=torch.uint64),
    }
    for name, x in ints.items():
        t["int." + name] = x
        # exact Python ints -> float32 by correct rounding (float() of an int rounds once to double,
        # exact here for these values' float32 result)
        t["intf." + name] = torch.tensor([float(int(v)) for v in x.tolist()], dtype=torch.float32)
    t["scalar"] = torch.tensor(2.5, dtype=torch.bfloat16)
    t["empty"] = torch.zeros((0, 4), dtype=torch.float16)
    save_file(t, out, metadata={"format": "pt", "producer": "make_reference.py"})


if __name__ == "__main__":
    main(sys.argv[1])
