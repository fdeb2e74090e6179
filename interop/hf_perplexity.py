"""Perplexity of a model directory with plain Hugging Face transformers, for cross-checking Amalgam.

    python interop/hf_perplexity.py MODEL_DIR DATA.jsonl SEQ_LEN

DATA.jsonl holds {"input_ids": [...]} rows. Like `amalgam eval`, the ids of all rows are concatenated,
cut into SEQ_LEN-token chunks (the remainder is dropped), and PPL = exp(total NLL / predicted tokens).
Prints JSON: perplexity, tokens, and whether transformers reported missing or unexpected weights.
"""
import json
import math
import sys

import torch
from transformers import AutoModelForCausalLM


def main(model_dir, data, seq_len):
    ids = []
    with open(data) as f:
        for line in f:
            if line.strip():
                ids.extend(json.loads(line)["input_ids"])
    model, info = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, output_loading_info=True)
    model.eval()
    total_nll, predicted = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids) - seq_len + 1, seq_len):
            chunk = torch.tensor([ids[start:start + seq_len]])
            logits = model(chunk).logits.double()
            logp = torch.log_softmax(logits[0, :-1], dim=-1)
            target = chunk[0, 1:]
            total_nll -= logp.gather(1, target[:, None]).sum().item()
            predicted += seq_len - 1
    print(json.dumps({
        "perplexity": math.exp(total_nll / predicted),
        "tokens": predicted,
        "missing_keys": sorted(info["missing_keys"]),
        "unexpected_keys": sorted(info["unexpected_keys"]),
        "architecture": type(model).__name__,
        "layers": model.config.num_hidden_layers,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
