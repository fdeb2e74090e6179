"""Checks a sharded checkpoint written by ShardedCheckpointWriter with the official reader:
every weight_map entry loads from its shard (metadata {"format": "pt"}), equals arange(n) * 0.25
in its dtype, and total_size is the sum of the tensors' bytes.
    python check_sharded_checkpoint.py DIR
"""
import json, sys, torch
from safetensors import safe_open
d = sys.argv[1]
idx = json.load(open(f"{d}/model.safetensors.index.json"))
total = 0
for name, shard in idx["weight_map"].items():
    with safe_open(f"{d}/{shard}", "pt") as f:
        assert f.metadata() == {"format": "pt"}, f.metadata()
        t = f.get_tensor(name)
        total += t.numel() * t.element_size()
        exp = (torch.arange(t.numel()).float() * 0.25).to(t.dtype).reshape(t.shape)
        assert torch.equal(t, exp), name
        print(name, shard, t.dtype, tuple(t.shape))
assert total == idx["metadata"]["total_size"], (total, idx["metadata"])
print("index OK, total_size", total)
