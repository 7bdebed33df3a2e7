"""Writes a tiny deepseek2-architecture GGUF (DeepSeek-V2/V3/R1: multi-head latent attention
and a mixture of experts) with random weights and SmolLM2's real tokenizer, so that the engine's
deepseek2 path is tested without downloading a model of hundreds of GB.

The layout is what llama.cpp's current converter writes for V3/R1: a low-rank query
(attn_q_a, attn_q_a_norm, attn_q_b), the compressed KV projection with its decoupled RoPE part
(attn_kv_a_mqa, attn_kv_a_norm) and the MLA up-projections split per head (attn_k_b, attn_v_b),
one KV head of width kv_lora_rank + rope dim; layer 0 is a dense FFN, layer 1 routes each token
to 2 of 4 experts plus a shared expert.

Usage: python tiny_deepseek2.py SMOLLM2.gguf OUT.gguf   (needs: pip install gguf numpy)
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

src_path, out_path = sys.argv[1], sys.argv[2]
N_EMBD, N_HEAD, N_LAYER, N_CTX, N_FF = 64, 4, 2, 512, 128
Q_LORA, KV_LORA = 32, 32            # low-rank query and compressed KV widths
QK_NOPE, QK_ROPE, V_HEAD = 16, 8, 16  # per-head dims: key without / with RoPE, value
N_EXPERT, N_EXPERT_USED, N_SHARED, N_FF_EXP = 4, 2, 1, 32



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
w = GGUFWriter(out_path, "deepseek2")
w.add_name("tiny-deepseek2-random")
w.add_context_length(N_CTX)
w.add_embedding_length(N_EMBD)
w.add_block_count(N_LAYER)
w.add_feed_forward_length(N_FF)
w.add_head_count(N_HEAD)
w.add_head_count_kv(1)                     # MLA: one latent KV "head"
w.add_key_length(KV_LORA + QK_ROPE)        # cached per token: latent + RoPE key
w.add_value_length(KV_LORA)
w.add_key_length_mla(QK_NOPE + QK_ROPE)    # the decompressed per-head sizes
w.add_value_length_mla(V_HEAD)
w.add_rope_dimension_count(QK_ROPE)
w.add_rope_freq_base(10000.0)
w.add_layer_norm_rms_eps(1e-6)
w.add_q_lora_rank(Q_LORA)
w.add_kv_lora_rank(KV_LORA)
w.add_leading_dense_block_count(1)
w.add_expert_count(N_EXPERT)
w.add_expert_used_count(N_EXPERT_USED)
w.add_expert_shared_count(N_SHARED)
w.add_expert_feed_forward_length(N_FF_EXP)
w.add_expert_weights_scale(1.0)
w.add_file_type(0)  # all F32
for name, field in src.fields.items():
    if name.startswith("tokenizer."):
        val, t, sub = field_value(field)
        w.add_key_value(name, val, t, sub)

n_vocab = len(src.fields["tokenizer.ggml.tokens"].data)
rng = np.random.default_rng(7)


def rand(*shape):
    return (rng.standard_normal(shape) * 0.05).astype(np.float32)


def ones(n):
    return np.ones(n, dtype=np.float32)


# numpy shape (..., rows, cols) is ggml ne = [cols, rows, ...].
w.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD))
w.add_tensor("output_norm.weight", ones(N_EMBD))
for i in range(N_LAYER):
    p = f"blk.{i}."
    w.add_tensor(p + "attn_norm.weight", ones(N_EMBD))
    w.add_tensor(p + "attn_q_a.weight", rand(Q_LORA, N_EMBD))
    w.add_tensor(p + "attn_q_a_norm.weight", ones(Q_LORA))
    w.add_tensor(p + "attn_q_b.weight", rand(N_HEAD * (QK_NOPE + QK_ROPE), Q_LORA))
    w.add_tensor(p + "attn_kv_a_mqa.weight", rand(KV_LORA + QK_ROPE, N_EMBD))
    w.add_tensor(p + "attn_kv_a_norm.weight", ones(KV_LORA))
    w.add_tensor(p + "attn_k_b.weight", rand(N_HEAD, KV_LORA, QK_NOPE))
    w.add_tensor(p + "attn_v_b.weight", rand(N_HEAD, V_HEAD, KV_LORA))
    w.add_tensor(p + "attn_output.weight", rand(N_EMBD, N_HEAD * V_HEAD))
    w.add_tensor(p + "ffn_norm.weight", ones(N_EMBD))
    if i == 0:
        w.add_tensor(p + "ffn_gate.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_up.weight", rand(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_down.weight", rand(N_EMBD, N_FF))
    else:
        w.add_tensor(p + "ffn_gate_inp.weight", rand(N_EXPERT, N_EMBD))
        w.add_tensor(p + "ffn_gate_exps.weight", rand(N_EXPERT, N_FF_EXP, N_EMBD))
        w.add_tensor(p + "ffn_up_exps.weight", rand(N_EXPERT, N_FF_EXP, N_EMBD))
        w.add_tensor(p + "ffn_down_exps.weight", rand(N_EXPERT, N_EMBD, N_FF_EXP))
        w.add_tensor(p + "ffn_gate_shexp.weight", rand(N_FF_EXP * N_SHARED, N_EMBD))
        w.add_tensor(p + "ffn_up_shexp.weight", rand(N_FF_EXP * N_SHARED, N_EMBD))
        w.add_tensor(p + "ffn_down_shexp.weight", rand(N_EMBD, N_FF_EXP * N_SHARED))

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"wrote {out_path}")
