//! XCDR1 (plain CDR, OMG DDS-XTypes 1.3 §7.4.3) for serde types, little
//! endian on writing, either endianness on reading.
//!
//! Alignment of a primitive of `n` bytes is `n`, counted from the start of
//! the data after the 4-byte encapsulation header. Strings are a `u32`
//! length including the terminating NUL, the bytes and the NUL; sequences a
//! `u32` count and the elements; enums and union discriminants a `u32`.
//! See [`super::schema`] for how Rust types map onto these.
//!
//! A Twin writer appends a *trailer* after the sample: 4-byte aligned, the
//! magic `TWNT`, a `u32` of flags (bit 0: a simulation time is present),
//! the simulation time stamp and the writer's sequence number (each `u64`
//! as two little-endian `u32`, low first). Readers that decode by the IDL
//! type stop before it; Twin readers use it for
//! [`crate::SampleInfo::sim_time`] and [`crate::SampleInfo::sequence`].

use serde::{
    de::{self, DeserializeSeed, IntoDeserializer, Visitor},
    ser::{self, Serialize},
};

/// CDR_LE encapsulation header (XCDR1, little endian, no options).
pub(crate) const HEADER_LE: [u8; 4] = [0x00, 0x01, 0x00, 0x00];
const TRAILER_MAGIC: [u8; 4] = *b"TWNT";

/// A CDR encoding or decoding failure, naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct CdrError(pub(crate) String);

impl ser::Error for CdrError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CdrError(msg.to_string())
    }
}
impl de::Error for CdrError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CdrError(msg.to_string())
    }
}

/// What the trailer carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Trailer {
    /// Simulation time stamp [ns].
    pub(crate) sim_ns: Option<u64>,
    /// The writer's sequence number, from 1.
    pub(crate) seq: u64,
}

/// Serialises `value` with the encapsulation header and, if given, a trailer.
pub(crate) fn encode<T: Serialize + ?Sized>(
    value: &T,
    trailer: Option<Trailer>,
    out: &mut Vec<u8>,
) -> Result<(), CdrError> {
    out.clear();
    out.extend_from_slice(&HEADER_LE);
    value.serialize(&mut Ser {
        out,
        doubles: false,
    })?;
    if let Some(t) = trailer {
        let mut s = Ser {
            out,
            doubles: false,
        };
        s.align(4);
        s.out.extend_from_slice(&TRAILER_MAGIC);
        s.out
            .extend_from_slice(&u32::from(t.sim_ns.is_some()).to_le_bytes());
        for v in [t.sim_ns.unwrap_or(0), t.seq] {
            s.out.extend_from_slice(&(v as u32).to_le_bytes());
            s.out.extend_from_slice(&((v >> 32) as u32).to_le_bytes());
        }
    }
    // XCDR1 payloads are padded to a multiple of 4; the header's options
    // carry the padding count.
    let pad = (4 - (out.len() % 4)) % 4;
    out.extend(std::iter::repeat_n(0, pad));
    if pad != 0 {
        out[3] = pad as u8;
    }
    Ok(())
}

/// Serialises only `key` (key-only CDR, used for dispose and unregister).
pub(crate) fn encode_key<K: Serialize + ?Sized>(
    key: &K,
    out: &mut Vec<u8>,
) -> Result<(), CdrError> {
    encode(key, None, out)
}

/// Decodes a sample (header included) and its trailer, if any.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, Option<Trailer>), CdrError> {
    if bytes.len() < 4 {
        return Err(CdrError(format!(
            "{} bytes: shorter than the CDR header",
            bytes.len()
        )));
    }
    let le = match (bytes[0], bytes[1]) {
        (0x00, 0x01) => true,
        (0x00, 0x00) => false,
        (a, b) => {
            return Err(CdrError(format!(
                "encapsulation {a:#04x}{b:02x} is not plain CDR (XCDR1)"
            )))
        }
    };
    let mut d = De {
        data: &bytes[4..],
        pos: 0,
        le,
    };
    let v = T::deserialize(&mut d)?;
    d.align(4)?;
    let rest = &d.data[d.pos.min(d.data.len())..];
    let word = |i: usize| {
        u64::from(u32::from_le_bytes(
            rest[i..i + 4].try_into().expect("4 bytes"),
        ))
    };
    let trailer = (rest.len() >= 24 && rest[..4] == TRAILER_MAGIC).then(|| {
        let sim = word(8) | (word(12) << 32);
        Trailer {
            sim_ns: (word(4) & 1 == 1).then_some(sim),
            seq: word(16) | (word(20) << 32),
        }
    });
    Ok((v, trailer))
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
    /// Set by an [`crate::F64s`]: the next bytes are little-endian doubles.
    doubles: bool,
}

impl Ser<'_> {
    fn align(&mut self, n: usize) {
        let pos = self.out.len() - 4;
        let pad = (n - pos % n) % n;
        self.out.extend(std::iter::repeat_n(0, pad));
    }
    fn prim<const N: usize>(&mut self, b: [u8; N]) {
        self.align(N);
        self.out.extend_from_slice(&b);
    }
    fn len(&mut self, n: usize) -> Result<(), CdrError> {
        let n = u32::try_from(n).map_err(|_| CdrError(format!("length {n} exceeds u32")))?;
        self.prim(n.to_le_bytes());
        Ok(())
    }
}

type SerResult = Result<(), CdrError>;

impl<'a, 'b> ser::Serializer for &'a mut Ser<'b> {
    type Ok = ();
    type Error = CdrError;
    type SerializeSeq = &'a mut Ser<'b>;
    type SerializeTuple = &'a mut Ser<'b>;
    type SerializeTupleStruct = &'a mut Ser<'b>;
    type SerializeTupleVariant = &'a mut Ser<'b>;
    type SerializeMap = &'a mut Ser<'b>;
    type SerializeStruct = &'a mut Ser<'b>;
    type SerializeStructVariant = &'a mut Ser<'b>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bool(self, v: bool) -> SerResult {
        self.out.push(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> SerResult {
        self.out.push(v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> SerResult {
        self.prim(v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> SerResult {
        self.prim(u32::from(v).to_le_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> SerResult {
        if v.contains('\0') {
            return Err(CdrError(
                "string contains NUL, which CDR strings cannot carry".into(),
            ));
        }
        self.len(v.len() + 1)?;
        self.out.extend_from_slice(v.as_bytes());
        self.out.push(0);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> SerResult {
        if std::mem::take(&mut self.doubles) {
            // `sequence<double>`: the count, then (if any) the doubles
            // 8-aligned, as element-wise encoding would lay them out.
            self.len(v.len() / 8)?;
            if !v.is_empty() {
                self.align(8);
            }
        } else {
            self.len(v.len())?;
        }
        self.out.extend_from_slice(v);
        Ok(())
    }
    fn serialize_none(self) -> SerResult {
        self.len(0)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> SerResult {
        self.len(1)?;
        v.serialize(self)
    }
    fn serialize_unit(self) -> SerResult {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> SerResult {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, i: u32, _: &'static str) -> SerResult {
        self.serialize_u32(i)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        v: &T,
    ) -> SerResult {
        self.doubles = name == crate::bytes::F64S_NAME;
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        i: u32,
        _: &'static str,
        v: &T,
    ) -> SerResult {
        self.prim(i.to_le_bytes());
        v.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, CdrError> {
        let n = len.ok_or_else(|| CdrError("sequence of unknown length".into()))?;
        self.len(n)?;
        // Every element takes at least a byte.
        self.out.reserve(n);
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CdrError> {
        Ok(self)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CdrError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        i: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CdrError> {
        self.prim(i.to_le_bytes());
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, CdrError> {
        let n = len.ok_or_else(|| CdrError("map of unknown length".into()))?;
        self.len(n)?;
        Ok(self)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, CdrError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        i: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CdrError> {
        self.prim(i.to_le_bytes());
        Ok(self)
    }
}

macro_rules! compound {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for &mut Ser<'_> {
            type Ok = ();
            type Error = CdrError;
            fn $m<T: ?Sized + Serialize>(&mut self, v: &T) -> SerResult {
                v.serialize(&mut **self)
            }
            fn end(self) -> SerResult {
                Ok(())
            }
        }
    )*};
}
compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Ser<'_> {
    type Ok = ();
    type Error = CdrError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> SerResult {
        k.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> SerResult {
        v.serialize(&mut **self)
    }
    fn end(self) -> SerResult {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Ser<'_> {
    type Ok = ();
    type Error = CdrError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> SerResult {
        v.serialize(&mut **self)
    }
    fn end(self) -> SerResult {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Ser<'_> {
    type Ok = ();
    type Error = CdrError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> SerResult {
        v.serialize(&mut **self)
    }
    fn end(self) -> SerResult {
        Ok(())
    }
}

struct De<'a> {
    data: &'a [u8],
    pos: usize,
    le: bool,
}

impl<'a> De<'a> {
    fn align(&mut self, n: usize) -> Result<(), CdrError> {
        let pad = (n - self.pos % n) % n;
        if self.pos + pad > self.data.len() {
            // Padding at the very end may be absent.
            self.pos = self.data.len();
            return Ok(());
        }
        self.pos += pad;
        Ok(())
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], CdrError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| {
                CdrError(format!(
                    "truncated: {n} bytes needed at offset {} of {}",
                    self.pos,
                    self.data.len()
                ))
            })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn prim<const N: usize>(&mut self) -> Result<[u8; N], CdrError> {
        if N > 1 {
            let pad = (N - self.pos % N) % N;
            self.pos += pad;
        }
        let mut b: [u8; N] = self.bytes(N)?.try_into().expect("N bytes");
        if !self.le {
            b.reverse();
        }
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, CdrError> {
        Ok(u32::from_le_bytes(self.prim()?))
    }
    /// A length prefix, checked against the bytes left (each element takes
    /// at least `min` bytes) so garbage cannot make us allocate gigabytes.
    fn len(&mut self, min: usize) -> Result<usize, CdrError> {
        let at = self.pos;
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.data.len() - self.pos {
            return Err(CdrError(format!(
                "length {n} at offset {at} exceeds the {} bytes left",
                self.data.len() - self.pos
            )));
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<&'a str, CdrError> {
        let at = self.pos;
        let n = self.len(1)?;
        if n == 0 {
            return Err(CdrError(format!(
                "string at offset {at} has length 0 (no NUL)"
            )));
        }
        let b = self.bytes(n)?;
        if b[n - 1] != 0 {
            return Err(CdrError(format!(
                "string at offset {at} is not NUL-terminated"
            )));
        }
        std::str::from_utf8(&b[..n - 1])
            .map_err(|e| CdrError(format!("string at offset {at}: {e}")))
    }
}

macro_rules! de_prim {
    ($($m:ident $v:ident $t:ty),*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
            v.$v(<$t>::from_le_bytes(self.prim()?))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut De<'de> {
    type Error = CdrError;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, CdrError> {
        Err(CdrError(
            "CDR is not self-describing: the type needs a fixed shape".into(),
        ))
    }
    de_prim!(
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16, deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64, deserialize_u16 visit_u16 u16, deserialize_u32 visit_u32 u32,
        deserialize_u64 visit_u64 u64, deserialize_f32 visit_f32 f32, deserialize_f64 visit_f64 f64
    );
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        v.visit_u8(self.bytes(1)?[0])
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        match self.bytes(1)?[0] {
            0 => v.visit_bool(false),
            1 => v.visit_bool(true),
            b => Err(CdrError(format!(
                "boolean byte {b} at offset {}",
                self.pos - 1
            ))),
        }
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        let c = self.u32()?;
        v.visit_char(char::from_u32(c).ok_or_else(|| CdrError(format!("{c:#x} is not a char")))?)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        v.visit_borrowed_str(self.string()?)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        self.deserialize_str(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        let n = self.len(1)?;
        v.visit_borrowed_bytes(self.bytes(n)?)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        self.deserialize_bytes(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        let at = self.pos;
        match self.u32()? {
            0 => v.visit_none(),
            1 => v.visit_some(self),
            n => Err(CdrError(format!(
                "optional at offset {at} has {n} elements (0 or 1)"
            ))),
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, CdrError> {
        v.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, CdrError> {
        if name != crate::bytes::F64S_NAME {
            return v.visit_newtype_struct(self);
        }
        // `sequence<double>` in one piece (see `crate::F64s`).
        let n = self.len(8)?;
        if n > 0 {
            self.align(8)?;
        }
        let b = self.bytes(n * 8)?;
        if self.le {
            v.visit_borrowed_bytes(b)
        } else {
            let mut le = b.to_vec();
            le.chunks_exact_mut(8).for_each(<[u8]>::reverse);
            v.visit_byte_buf(le)
        }
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        let n = self.len(1)?;
        v.visit_seq(Elems { de: self, left: n })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, n: usize, v: V) -> Result<V::Value, CdrError> {
        v.visit_seq(Elems { de: self, left: n })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        n: usize,
        v: V,
    ) -> Result<V::Value, CdrError> {
        v.visit_seq(Elems { de: self, left: n })
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        let n = self.len(2)?;
        v.visit_map(Elems { de: self, left: n })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, CdrError> {
        v.visit_seq(Elems {
            de: self,
            left: fields.len(),
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, CdrError> {
        let at = self.pos;
        let i = self.u32()?;
        if i as usize >= variants.len() {
            return Err(CdrError(format!(
                "{name}: discriminant {i} at offset {at}, only {} variants",
                variants.len()
            )));
        }
        v.visit_enum(Variant { de: self, index: i })
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, CdrError> {
        self.deserialize_u32(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, CdrError> {
        Err(CdrError("cannot skip a value in CDR".into()))
    }
}

struct Elems<'a, 'de> {
    de: &'a mut De<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Elems<'_, 'de> {
    type Error = CdrError;
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        s: S,
    ) -> Result<Option<S::Value>, CdrError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        s.deserialize(&mut *self.de).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Elems<'_, 'de> {
    type Error = CdrError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        s: K,
    ) -> Result<Option<K::Value>, CdrError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        s.deserialize(&mut *self.de).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, s: V) -> Result<V::Value, CdrError> {
        s.deserialize(&mut *self.de)
    }
}

struct Variant<'a, 'de> {
    de: &'a mut De<'de>,
    index: u32,
}

impl<'a, 'de> de::EnumAccess<'de> for Variant<'a, 'de> {
    type Error = CdrError;
    type Variant = Self;
    fn variant_seed<S: DeserializeSeed<'de>>(self, s: S) -> Result<(S::Value, Self), CdrError> {
        let d: de::value::U32Deserializer<CdrError> = self.index.into_deserializer();
        Ok((s.deserialize(d)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = CdrError;
    fn unit_variant(self) -> Result<(), CdrError> {
        Ok(())
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, s: S) -> Result<S::Value, CdrError> {
        s.deserialize(self.de)
    }
    fn tuple_variant<V: Visitor<'de>>(self, n: usize, v: V) -> Result<V::Value, CdrError> {
        v.visit_seq(Elems {
            de: self.de,
            left: n,
        })
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        f: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, CdrError> {
        v.visit_seq(Elems {
            de: self.de,
            left: f.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum E {
        A,
        B(u8),
        C { x: u64, s: String },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct S {
        a: u8,
        b: u64,
        c: Option<i16>,
        d: Vec<E>,
        f: f32,
        t: bool,
    }

    #[test]
    fn layout_follows_xcdr1_alignment() {
        let mut out = Vec::new();
        encode(&(1u8, 2u64), None, &mut out).unwrap();
        // header, u8, 7 pad bytes, u64
        assert_eq!(
            out,
            [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]
        );
        encode("hi", None, &mut out).unwrap();
        assert_eq!(out, [0, 1, 0, 1, 3, 0, 0, 0, b'h', b'i', 0, 0]);
    }

    #[test]
    fn round_trip_with_trailer() {
        let s = S {
            a: 7,
            b: u64::MAX - 3,
            c: Some(-5),
            d: vec![
                E::A,
                E::B(9),
                E::C {
                    x: 3,
                    s: "é".into(),
                },
            ],
            f: 1.5,
            t: true,
        };
        let mut out = Vec::new();
        let t = Trailer {
            sim_ns: Some(123_456_789_012),
            seq: (7 << 32) + 9,
        };
        encode(&s, Some(t), &mut out).unwrap();
        assert_eq!(out.len() % 4, 0);
        let (back, got): (S, _) = decode(&out).unwrap();
        assert_eq!(back, s);
        assert_eq!(got, Some(t));
        let t = Trailer {
            sim_ns: None,
            seq: 1,
        };
        encode(&s, Some(t), &mut out).unwrap();
        assert_eq!(decode::<S>(&out).unwrap().1, Some(t));
        encode(&s, None, &mut out).unwrap();
        assert_eq!(decode::<S>(&out).unwrap().1, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut out = Vec::new();
        encode(&vec![1u32, 2, 3], None, &mut out).unwrap();
        out[4] = 0xff; // absurd length
        let e = decode::<Vec<u32>>(&out).unwrap_err();
        assert!(e.0.contains("exceeds"), "{e}");
        assert!(decode::<S>(&[0, 1, 0, 0, 1]).is_err());
        assert!(decode::<String>(&[0x00, 0x07, 0, 0])
            .unwrap_err()
            .0
            .contains("encapsulation"));
        let mut st = Vec::new();
        encode(
            &E::C {
                x: 1,
                s: "ab".into(),
            },
            None,
            &mut st,
        )
        .unwrap();
        st[4] = 9;
        assert!(decode::<E>(&st).unwrap_err().0.contains("discriminant 9"));
    }

    #[test]
    fn big_endian_input_decodes() {
        let be = [0x00, 0x00, 0, 0, 0, 0, 0, 5, 0x01, 0x02];
        let (v, _): ((u32, u16), _) = decode(&be).unwrap();
        assert_eq!(v, (5, 0x0102));
    }
}
