"""Writes a tiny qwen2-architecture GGUF (the architecture of DeepSeek-R1-Distill-Qwen) with
random weights and SmolLM2's real tokenizer, so that the engine's qwen2 path is tested without
downloading a multi-GB model.

Usage: python tiny_qwen2.py SMOLLM2.gguf OUT.gguf   (needs: pip install gguf numpy)
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

src_path, out_path = sys.argv[1], sys.argv[2]
N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_LAYER, N_CTX = 64, 4, 2, 128, 2, 512
HEAD_DIM = N_EMBD // N_HEAD


def field_value(field):
    """A reader field as a Python value plus its value types."""
    t = field.types[0]
    if t == GGUFValueType.ARRAY:
        sub = field.types[1]
        if sub == GGUFValueType.STRING:
            items = [bytes(field.parts[i]).decode("utf-8", errors="replace") for i in field.data]
        else:
            items = [field.parts[i][0].item() for i in field.data]
        return items, t, sub
    if t == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace"), t, None
    return field.parts[field.data[0]][0].item(), t, None


src = GGUFReader(src_path)
w = GGUFWriter(out_path, "qwen2")
w.add_name("tiny-qwen2-random")
w.add_context_length(N_CTX)
w.add_embedding_length(N_EMBD)
w.add_block_count(N_LAYER)
w.add_feed_forward_length(N_FF)
w.add_head_count(N_HEAD)
w.add_head_count_kv(N_HEAD_KV)
w.add_rope_freq_base(10000.0)
w.add_layer_norm_rms_eps(1e-6)
w.add_file_type(0)  # all F32
for name, field in src.fields.items():
    if name.startswith("tokenizer."):
        val, t, sub = field_value(field)
        w.add_key_value(name, val, t, sub)

n_vocab = len(src.fields["tokenizer.ggml.tokens"].data)
rng = np.random.default_rng(6)


def rand(*shape):
    return (rng.standard_normal(shape) * 0.05).astype(np.float32)


# numpy shape (rows, cols) is ggml ne = [cols, rows].
w.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD))
w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
for i in range(N_LAYER):
    p = f"blk.{i}."
    kv = HEAD_DIM * N_HEAD_KV
    w.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.add_tensor(p + "attn_q.weight", rand(N_EMBD, N_EMBD))
    w.add_tensor(p + "attn_q.bias", rand(N_EMBD))
    w.add_tensor(p + "attn_k.weight", rand(kv, N_EMBD))
    w.add_tensor(p + "attn_k.bias", rand(kv))
    w.add_tensor(p + "attn_v.weight", rand(kv, N_EMBD))
    w.add_tensor(p + "attn_v.bias", rand(kv))
    w.add_tensor(p + "attn_output.weight", rand(N_EMBD, N_EMBD))
    w.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.add_tensor(p + "ffn_gate.weight", rand(N_FF, N_EMBD))
    w.add_tensor(p + "ffn_up.weight", rand(N_FF, N_EMBD))
    w.add_tensor(p + "ffn_down.weight", rand(N_EMBD, N_FF))

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"wrote {out_path}")
