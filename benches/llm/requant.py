"""Re-quantises a GGUF to another block type (Q4_0 or Q8_0) with the `gguf` package: each
Q4_1 weight is dequantised to f32 and quantised again; F32 and other tensors are copied;
metadata is copied with `general.file_type` updated.

Usage: python requant.py IN.gguf OUT.gguf Q4_0|Q8_0   (needs: pip install gguf numpy)
"""
import sys

from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import dequantize, quantize

src_path, out_path, target = sys.argv[1], sys.argv[2], T[sys.argv[3]]
FILE_TYPE = {T.Q4_0: 2, T.Q8_0: 7}


def field_value(field):
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


r = GGUFReader(src_path)
arch = field_value(r.fields["general.architecture"])[0]
w = GGUFWriter(out_path, arch)
for name, field in r.fields.items():
    if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
        continue
    val, t, sub = field_value(field)
    w.add_key_value(name, val, t, sub)
w.add_file_type(FILE_TYPE[target])
for t in r.tensors:
    shape = tuple(int(d) for d in reversed(t.shape))  # numpy order: outermost first
    if t.tensor_type == T.Q4_1:
        data = quantize(dequantize(t.data, t.tensor_type).reshape(shape), target)
        w.add_tensor(t.name, data, raw_shape=data.shape, raw_dtype=target)
    else:
        w.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"wrote {out_path}")
