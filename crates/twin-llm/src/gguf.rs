//! A small reader for GGUF headers, metadata and tensor tables.
//!
//! GGUF (llama.cpp's model format) is: magic `GGUF`, a version (2 or 3), the tensor count and
//! metadata count (u64), the metadata key/value pairs, the tensor infos (name, dims, type,
//! offset), padding to `general.alignment` (default 32), then the tensor data. All integers are
//! little-endian.
//!
//! [`GgufInfo::read`] parses everything up to the data section and then checks that every
//! tensor's bytes lie inside the file, so a truncated download is refused with
//! [`GgufError::Truncated`] before a backend maps it. Large arrays (the tokenizer vocabulary)
//! are skipped and only their length kept.

use std::{
    collections::BTreeMap,
    fmt,
    fs::File,
    io::{self, BufReader, Read},
    path::{Path, PathBuf},
};

/// Arrays longer than this keep only their length in [`MetaValue::Array`].
const KEEP_ARRAY_ITEMS: u64 = 64;
/// Longest string accepted in metadata (chat templates are a few KiB; this is generous).
const MAX_STRING: u64 = 16 << 20;

/// Why a GGUF file was refused.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Model file.
        path: PathBuf,
        /// OS error.
        source: io::Error,
    },
    /// The first four bytes are not `GGUF`.
    #[error("{path} is not a GGUF file (magic {found:02x?}, expected \"GGUF\")")]
    BadMagic {
        /// Model file.
        path: PathBuf,
        /// The bytes found.
        found: [u8; 4],
    },
    /// A GGUF version this reader does not know.
    #[error("{path}: unsupported GGUF version {version} (supported: 2, 3)")]
    UnsupportedVersion {
        /// Model file.
        path: PathBuf,
        /// Version found.
        version: u32,
    },
    /// The file ends before the structure it announces (an interrupted download, usually).
    #[error(
        "{path} is truncated: {what} needs bytes up to offset {needed} but the file has \
         {file_len} bytes"
    )]
    Truncated {
        /// Model file.
        path: PathBuf,
        /// What was being read.
        what: String,
        /// Offset the structure needs.
        needed: u64,
        /// Actual file length.
        file_len: u64,
    },
    /// A field has a value no valid file has.
    #[error("{path} is corrupt at offset {offset}: {reason}")]
    Corrupt {
        /// Model file.
        path: PathBuf,
        /// Offset of the bad field.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// One metadata value (integers widened, long arrays summarised).
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// Any unsigned integer type.
    Uint(u64),
    /// Any signed integer type.
    Int(i64),
    /// `f32` or `f64`.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// UTF-8 string (invalid bytes replaced).
    String(String),
    /// Array: its length, and its items when it has at most 64.
    Array {
        /// Number of items in the file.
        len: u64,
        /// The items, empty when `len` is over 64.
        items: Vec<MetaValue>,
    },
}

impl MetaValue {
    /// The value as an unsigned integer, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::Uint(v) => Some(v),
            MetaValue::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for MetaValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaValue::Uint(v) => write!(f, "{v}"),
            MetaValue::Int(v) => write!(f, "{v}"),
            MetaValue::Float(v) => write!(f, "{v}"),
            MetaValue::Bool(v) => write!(f, "{v}"),
            MetaValue::String(s) => f.write_str(s),
            MetaValue::Array { len, .. } => write!(f, "[{len} items]"),
        }
    }
}

/// One tensor's entry in the tensor table.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    /// Tensor name (`blk.0.attn_q.weight`, …).
    pub name: String,
    /// Dimensions, innermost first.
    pub dims: Vec<u64>,
    /// ggml type id.
    pub ggml_type: u32,
    /// Offset inside the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Number of elements.
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// What a GGUF file says about itself.
#[derive(Debug, Clone)]
pub struct GgufInfo {
    /// GGUF version.
    pub version: u32,
    /// Metadata, by key.
    pub metadata: BTreeMap<String, MetaValue>,
    /// Tensor table in file order.
    pub tensors: Vec<TensorInfo>,
    /// Offset of the data section.
    pub data_offset: u64,
    /// File length in bytes.
    pub file_len: u64,
}

impl GgufInfo {
    /// Reads and checks the file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, GgufError> {
        let path = path.as_ref();
        let io_err = |source| GgufError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let file_len = file.metadata().map_err(io_err)?.len();
        let mut r = Reader {
            inner: BufReader::new(file),
            pos: 0,
            file_len,
            path,
        };
        r.parse()
    }

    /// A metadata value by key.
    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.get(key)
    }

    /// `general.architecture` (`llama`, `qwen2`, `deepseek2`, …).
    pub fn architecture(&self) -> Option<&str> {
        self.get("general.architecture").and_then(MetaValue::as_str)
    }

    /// `general.name`, when present.
    pub fn name(&self) -> Option<&str> {
        self.get("general.name").and_then(MetaValue::as_str)
    }

    /// Training context length (`<arch>.context_length`).
    pub fn context_length(&self) -> Option<u64> {
        let arch = self.architecture()?;
        self.get(&format!("{arch}.context_length"))
            .and_then(MetaValue::as_u64)
    }

    /// The Jinja chat template shipped with the model (`tokenizer.chat_template`).
    pub fn chat_template(&self) -> Option<&str> {
        self.get("tokenizer.chat_template")
            .and_then(MetaValue::as_str)
    }

    /// Total number of weights.
    pub fn parameter_count(&self) -> u64 {
        self.tensors.iter().map(TensorInfo::n_elements).sum()
    }

    /// Quantisation name: from `general.file_type`, else the most common tensor type.
    pub fn quantization(&self) -> String {
        if let Some(name) = self
            .get("general.file_type")
            .and_then(MetaValue::as_u64)
            .and_then(file_type_name)
        {
            return name.to_owned();
        }
        let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
        for t in &self.tensors {
            *counts.entry(t.ggml_type).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|&(_, n)| n)
            .and_then(|(ty, _)| ggml_type(ty))
            .map_or_else(|| "unknown".to_owned(), |t| t.name.to_owned())
    }

    /// The token text stored at `tokenizer.ggml.<which>_token_id`, if the vocabulary kept it.
    pub fn special_token_id(&self, which: &str) -> Option<u64> {
        self.get(&format!("tokenizer.ggml.{which}_token_id"))
            .and_then(MetaValue::as_u64)
    }
}

/// Size of one ggml tensor type: elements per block and bytes per block.
#[derive(Debug, Clone, Copy)]
struct GgmlType {
    name: &'static str,
    block: u64,
    bytes: u64,
}

/// The ggml type table (ids from ggml.h; block layouts from the quantisation structs).
fn ggml_type(id: u32) -> Option<GgmlType> {
    let (name, block, bytes) = match id {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 36),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        16 => ("IQ2_XXS", 256, 66),
        17 => ("IQ2_XS", 256, 74),
        18 => ("IQ3_XXS", 256, 98),
        19 => ("IQ1_S", 256, 50),
        20 => ("IQ4_NL", 32, 18),
        21 => ("IQ3_S", 256, 110),
        22 => ("IQ2_S", 256, 82),
        23 => ("IQ4_XS", 256, 136),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        29 => ("IQ1_M", 256, 56),
        30 => ("BF16", 1, 2),
        34 => ("TQ1_0", 256, 54),
        35 => ("TQ2_0", 256, 66),
        39 => ("MXFP4", 32, 17),
        _ => return None,
    };
    Some(GgmlType { name, block, bytes })
}

/// llama.cpp's `llama_ftype` names.
fn file_type_name(ft: u64) -> Option<&'static str> {
    Some(match ft {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

/// A counting little-endian reader that turns short reads into [`GgufError::Truncated`].
struct Reader<'p, R> {
    inner: R,
    pos: u64,
    file_len: u64,
    path: &'p Path,
}

impl<R: Read> Reader<'_, R> {
    fn truncated(&self, what: impl Into<String>, needed: u64) -> GgufError {
        GgufError::Truncated {
            path: self.path.to_owned(),
            what: what.into(),
            needed,
            file_len: self.file_len,
        }
    }

    fn corrupt(&self, offset: u64, reason: impl Into<String>) -> GgufError {
        GgufError::Corrupt {
            path: self.path.to_owned(),
            offset,
            reason: reason.into(),
        }
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, GgufError> {
        let end = self.pos.saturating_add(n);
        if end > self.file_len {
            return Err(self.truncated(what, end));
        }
        let mut buf = vec![0; n as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => self.truncated(what, end),
                _ => GgufError::Io {
                    path: self.path.to_owned(),
                    source: e,
                },
            })?;
        self.pos = end;
        Ok(buf)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let v = self.bytes(N as u64, what)?;
        Ok(v.try_into().expect("bytes() returns exactly N bytes"))
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let at = self.pos;
        let len = self.u64(what)?;
        if len > MAX_STRING {
            return Err(self.corrupt(at, format!("{what}: string length {len} is implausible")));
        }
        let b = self.bytes(len, what)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    fn value(&mut self, ty: u32, key: &str, depth: u8) -> Result<MetaValue, GgufError> {
        let at = self.pos;
        Ok(match ty {
            0 => MetaValue::Uint(self.array::<1>(key)?[0].into()),
            1 => MetaValue::Int(i8::from_le_bytes(self.array(key)?).into()),
            2 => MetaValue::Uint(u16::from_le_bytes(self.array(key)?).into()),
            3 => MetaValue::Int(i16::from_le_bytes(self.array(key)?).into()),
            4 => MetaValue::Uint(self.u32(key)?.into()),
            5 => MetaValue::Int(i32::from_le_bytes(self.array(key)?).into()),
            6 => MetaValue::Float(f32::from_le_bytes(self.array(key)?).into()),
            7 => match self.array::<1>(key)?[0] {
                0 => MetaValue::Bool(false),
                1 => MetaValue::Bool(true),
                b => return Err(self.corrupt(at, format!("{key}: bool byte {b}"))),
            },
            8 => MetaValue::String(self.string(key)?),
            9 if depth == 0 => {
                let elem = self.u32(key)?;
                let len = self.u64(key)?;
                // Every element takes at least one byte: a longer count cannot fit the file.
                if len > self.file_len - self.pos {
                    return Err(self.truncated(format!("array `{key}` of {len} items"), {
                        self.pos.saturating_add(len)
                    }));
                }
                let mut items = Vec::new();
                for _ in 0..len {
                    let v = self.value(elem, key, depth + 1)?;
                    if len <= KEEP_ARRAY_ITEMS {
                        items.push(v);
                    }
                }
                MetaValue::Array { len, items }
            }
            10 => MetaValue::Uint(self.u64(key)?),
            11 => MetaValue::Int(i64::from_le_bytes(self.array(key)?)),
            12 => MetaValue::Float(f64::from_le_bytes(self.array(key)?)),
            _ => return Err(self.corrupt(at, format!("{key}: unknown value type {ty}"))),
        })
    }

    fn parse(&mut self) -> Result<GgufInfo, GgufError> {
        let magic: [u8; 4] = self.array("magic")?;
        if &magic != b"GGUF" {
            return Err(GgufError::BadMagic {
                path: self.path.to_owned(),
                found: magic,
            });
        }
        let version = self.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion {
                path: self.path.to_owned(),
                version,
            });
        }
        let n_tensors = self.u64("tensor count")?;
        let n_kv = self.u64("metadata count")?;
        // A key/value takes at least 13 bytes, a tensor info at least 28.
        if n_kv
            .saturating_mul(13)
            .saturating_add(n_tensors.saturating_mul(28))
            > self.file_len
        {
            return Err(self.corrupt(
                8,
                format!("{n_tensors} tensors and {n_kv} metadata entries cannot fit the file"),
            ));
        }
        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = self.string("metadata key")?;
            let ty = self.u32(&key)?;
            let v = self.value(ty, &key, 0)?;
            metadata.insert(key, v);
        }
        let mut tensors = Vec::with_capacity(n_tensors as usize);
        for _ in 0..n_tensors {
            let name = self.string("tensor name")?;
            let at = self.pos;
            let n_dims = self.u32(&name)?;
            if n_dims == 0 || n_dims > 8 {
                return Err(self.corrupt(at, format!("tensor `{name}` has {n_dims} dimensions")));
            }
            let dims = (0..n_dims)
                .map(|_| self.u64(&name))
                .collect::<Result<Vec<_>, _>>()?;
            let ggml_type = self.u32(&name)?;
            let offset = self.u64(&name)?;
            tensors.push(TensorInfo {
                name,
                dims,
                ggml_type,
                offset,
            });
        }
        let align = metadata
            .get("general.alignment")
            .and_then(MetaValue::as_u64)
            .unwrap_or(32);
        if align == 0 || !align.is_power_of_two() {
            return Err(self.corrupt(0, format!("general.alignment {align} is not a power of 2")));
        }
        let data_offset = self.pos.div_ceil(align) * align;
        for t in &tensors {
            let Some(ty) = ggml_type(t.ggml_type) else {
                return Err(self.corrupt(
                    data_offset,
                    format!("tensor `{}` has unknown ggml type {}", t.name, t.ggml_type),
                ));
            };
            let n = t.n_elements();
            if n % ty.block != 0 {
                return Err(self.corrupt(
                    data_offset,
                    format!(
                        "tensor `{}`: {n} elements is not a multiple of {}",
                        t.name, ty.block
                    ),
                ));
            }
            let end = data_offset
                .saturating_add(t.offset)
                .saturating_add(n / ty.block * ty.bytes);
            if end > self.file_len {
                return Err(self.truncated(format!("tensor `{}`", t.name), end));
            }
        }
        Ok(GgufInfo {
            version,
            metadata,
            tensors,
            data_offset,
            file_len: self.file_len,
        })
    }
}

#[cfg(test)]
mod tests;
