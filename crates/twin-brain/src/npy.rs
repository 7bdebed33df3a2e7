//! A small reader and writer for NumPy's `.npy` and `.npz` formats.
//!
//! Only what the simulator needs: little-endian `f8`, `f4`, `i8`, `i4`, `u1`/`b1`
//! and unicode strings (`<U`), C order. [`NpyWriter`] appends rows to a `.npy`
//! file and rewrites the shape in the header after every chunk, so a crash loses
//! at most the rows written since the last [`NpyWriter::flush`].

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use crate::error::{BrainError, ConnectomeError};

/// The element data of an array read from `.npy`.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// Floating-point values (`f8`, or `f4` widened exactly).
    F64(Vec<f64>),
    /// Integer values (`i8`, `i4`, `u1`, `b1`).
    I64(Vec<i64>),
    /// Unicode strings (`<U`).
    Str(Vec<String>),
}

/// An array read from a `.npy` file or an `.npz` member.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Shape, C order (last index fastest).
    pub shape: Vec<usize>,
    /// Elements in C order.
    pub data: NpyData,
}

impl NpyArray {
    /// The elements as `f64` (integers converted); `None` for strings.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match &self.data {
            NpyData::F64(v) => Some(v.clone()),
            NpyData::I64(v) => Some(v.iter().map(|&x| x as f64).collect()),
            NpyData::Str(_) => None,
        }
    }

    /// The elements as `i64` (floats must be integral); `None` otherwise.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        match &self.data {
            NpyData::I64(v) => Some(v.clone()),
            NpyData::F64(v) if v.iter().all(|x| x.fract() == 0.0) => {
                Some(v.iter().map(|&x| x as i64).collect())
            }
            _ => None,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn npy_err(file: &str, reason: impl Into<String>) -> ConnectomeError {
    ConnectomeError::Npy {
        file: file.to_string(),
        reason: reason.into(),
    }
}

/// Parses `.npy` bytes; `file` names the source in errors.
pub fn parse_npy(bytes: &[u8], file: &str) -> Result<NpyArray, ConnectomeError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(npy_err(file, "missing the \\x93NUMPY magic"));
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(npy_err(file, format!("unsupported format version {major}"))),
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or_else(|| npy_err(file, "truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| npy_err(file, "header not UTF-8"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| npy_err(file, "no descr"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"').to_string();
    let fortran = dict_value(header, "fortran_order").ok_or_else(|| npy_err(file, "no order"))?;
    if fortran.trim() != "False" {
        return Err(npy_err(file, "Fortran-ordered arrays are not supported"));
    }
    let shape_s = dict_value(header, "shape").ok_or_else(|| npy_err(file, "no shape"))?;
    let shape = shape_s
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| npy_err(file, format!("bad shape {shape_s}")))?;
    let n: usize = shape.iter().product();
    let body = &bytes[start + hlen..];
    let need = |size: usize| -> Result<&[u8], ConnectomeError> {
        body.get(..n * size).ok_or_else(|| {
            npy_err(
                file,
                format!("truncated data: {n} elements of {size} bytes"),
            )
        })
    };
    let data = match descr.as_str() {
        "<f8" => NpyData::F64(
            need(8)?
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("chunk of 8")))
                .collect(),
        ),
        "<f4" => NpyData::F64(
            need(4)?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("chunk of 4")) as f64)
                .collect(),
        ),
        "<i8" => NpyData::I64(
            need(8)?
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("chunk of 8")))
                .collect(),
        ),
        "<i4" => NpyData::I64(
            need(4)?
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().expect("chunk of 4")) as i64)
                .collect(),
        ),
        "|u1" | "|b1" => NpyData::I64(need(1)?.iter().map(|&b| b as i64).collect()),
        d if d.starts_with("<U") => {
            let width: usize = d[2..]
                .parse()
                .map_err(|_| npy_err(file, format!("bad dtype {d}")))?;
            let raw = need(4 * width)?;
            let strings = raw
                .chunks_exact(4 * width.max(1))
                .map(|item| {
                    item.chunks_exact(4)
                        .map(|c| u32::from_le_bytes(c.try_into().expect("chunk of 4")))
                        .take_while(|&u| u != 0)
                        .filter_map(char::from_u32)
                        .collect::<String>()
                })
                .collect();
            NpyData::Str(strings)
        }
        other => return Err(npy_err(file, format!("unsupported dtype {other}"))),
    };
    Ok(NpyArray { shape, data })
}

/// Finds `'key': value` in a NumPy header dict; returns the raw value text.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}':");
    let at = header.find(&pat1)? + pat1.len();
    let rest = header[at..].trim_start();
    if rest.starts_with('(') {
        let end = rest.find(')')?;
        Some(&rest[..=end])
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

/// Reads a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, ConnectomeError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| ConnectomeError::io(path, e))?;
    parse_npy(&bytes, &path.display().to_string())
}

/// Reads every member of an `.npz` archive (plain or compressed), keyed by
/// the member name without `.npy`, in archive order.
pub fn read_npz(path: impl AsRef<Path>) -> Result<Vec<(String, NpyArray)>, ConnectomeError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| ConnectomeError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| ConnectomeError::Zip {
        file: name.clone(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|e| ConnectomeError::Zip {
            file: name.clone(),
            reason: e.to_string(),
        })?;
        let mname = member.name().to_string();
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member
            .read_to_end(&mut bytes)
            .map_err(|e| ConnectomeError::io(path, e))?;
        let key = mname.strip_suffix(".npy").unwrap_or(&mname).to_string();
        out.push((key, parse_npy(&bytes, &format!("{name}:{mname}"))?));
    }
    Ok(out)
}

/// Builds a version-1 header for `descr` and `shape`, padded to `min_len` bytes
/// (rounded up to a multiple of 64) so that it can later be rewritten in place.
fn header_bytes(descr: &str, shape: &[usize], min_len: usize) -> Vec<u8> {
    let shape_s = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_s}, }}");
    let unpadded = 10 + dict.len() + 1;
    let total = unpadded.max(min_len).div_ceil(64) * 64;
    let mut h = Vec::with_capacity(total);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h
}

/// Encodes a whole `f64` array as `.npy` bytes.
pub fn encode_npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let mut out = header_bytes("<f8", shape, 0);
    out.reserve(data.len() * 8);
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Writes a whole `f64` array to a `.npy` file.
pub fn write_npy_f64(
    path: impl AsRef<Path>,
    shape: &[usize],
    data: &[f64],
) -> Result<(), ConnectomeError> {
    let path = path.as_ref();
    std::fs::write(path, encode_npy_f64(shape, data)).map_err(|e| ConnectomeError::io(path, e))
}

/// Appends rows of `f64` to a `.npy` file whose first dimension grows.
///
/// The header is sized for a first dimension of up to 20 digits and rewritten
/// by [`flush`](Self::flush): after a flush the file on disk is a complete,
/// valid `.npy` holding every row written so far.
#[derive(Debug)]
pub struct NpyWriter {
    path: PathBuf,
    file: File,
    row_shape: Vec<usize>,
    header_len: usize,
    rows: usize,
    buf: Vec<u8>,
}

impl NpyWriter {
    /// Creates (truncates) `path` for rows of shape `row_shape`.
    pub fn create(path: impl AsRef<Path>, row_shape: &[usize]) -> Result<Self, BrainError> {
        let path = path.as_ref().to_path_buf();
        let out_err = |e| BrainError::Output {
            path: path.clone(),
            source: e,
        };
        let mut shape = vec![usize::MAX];
        shape.extend_from_slice(row_shape);
        let header = header_bytes("<f8", &shape, 0);
        let mut file = File::create(&path).map_err(out_err)?;
        let mut zero = vec![0usize];
        zero.extend_from_slice(row_shape);
        let h0 = header_bytes("<f8", &zero, header.len());
        file.write_all(&h0).map_err(out_err)?;
        Ok(NpyWriter {
            path,
            file,
            row_shape: row_shape.to_vec(),
            header_len: header.len(),
            rows: 0,
            buf: Vec::new(),
        })
    }

    /// Buffers one row (its length must be the product of the row shape).
    pub fn push_row(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.row_shape.iter().product::<usize>());
        for x in row {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
        self.rows += 1;
    }

    /// Rows written or buffered so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Writes buffered rows and rewrites the header with the current row count.
    pub fn flush(&mut self) -> Result<(), BrainError> {
        let path = self.path.clone();
        let out_err = |e| BrainError::Output { path, source: e };
        self.file.seek(SeekFrom::End(0)).map_err(out_err)?;
        self.file
            .write_all(&self.buf)
            .map_err(|e| BrainError::Output {
                path: self.path.clone(),
                source: e,
            })?;
        self.buf.clear();
        let mut shape = vec![self.rows];
        shape.extend_from_slice(&self.row_shape);
        let h = header_bytes("<f8", &shape, self.header_len);
        debug_assert_eq!(h.len(), self.header_len);
        let res = self
            .file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&h))
            .and_then(|_| self.file.flush());
        res.map_err(|e| BrainError::Output {
            path: self.path.clone(),
            source: e,
        })
    }
}

#[cfg(test)]
mod tests;
