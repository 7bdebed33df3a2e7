//! Traces the serde shape of a type by deserialising made-up values: the
//! type's `Deserialize` asks for what it needs (a struct with these fields,
//! an enum with these variants, a sequence, a string…) and the probe
//! records it. Every sequence and option is given one element and each
//! enum, wherever it occurs, the next variant not yet explored, pass after
//! pass, until every variant of every enum has been seen. The result is in
//! `serde_reflection`'s format types so the schema builder can use it.
//!
//! (`serde_reflection`'s own tracer stops descending into a sequence once
//! its element format is known, so an enum met only inside a `Vec` would
//! keep unexplored variants.)

use std::collections::BTreeMap;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde_reflection::{ContainerFormat, Format, Named, VariantFormat};

#[derive(Debug)]
pub(crate) struct ProbeError(String);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ProbeError {}
impl de::Error for ProbeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ProbeError(msg.to_string())
    }
}

#[derive(Default)]
struct State {
    registry: BTreeMap<String, ContainerFormat>,
    /// Per enum: variant count, next variant to try, variants seen.
    enums: BTreeMap<String, (u32, u32, Vec<bool>)>,
    depth: usize,
}

/// Traces `T`, returning its format and the registry of named containers.
pub(crate) fn trace<T: DeserializeOwned>(
) -> Result<(Format, BTreeMap<String, ContainerFormat>), String> {
    let mut st = State::default();
    let mut top = Format::Unit;
    for _ in 0..512 {
        let before = st
            .enums
            .values()
            .map(|e| e.2.iter().filter(|x| **x).count())
            .sum::<usize>();
        let known = st.enums.len();
        let mut f = Format::Unit;
        T::deserialize(Probe {
            st: &mut st,
            out: &mut f,
        })
        .map_err(|e| e.0)?;
        top = f;
        let after = st
            .enums
            .values()
            .map(|e| e.2.iter().filter(|x| **x).count())
            .sum::<usize>();
        let complete = st.enums.values().all(|e| e.2.iter().all(|x| *x));
        if complete && after == before && known == st.enums.len() {
            return Ok((top, st.registry));
        }
    }
    let missing: Vec<&String> = st
        .enums
        .iter()
        .filter(|(_, e)| !e.2.iter().all(|x| *x))
        .map(|(n, _)| n)
        .collect();
    if missing.is_empty() {
        Ok((top, st.registry))
    } else {
        Err(format!("enums {missing:?} could not be traced completely"))
    }
}

struct Probe<'a> {
    st: &'a mut State,
    out: &'a mut Format,
}

type R<T> = Result<T, ProbeError>;

impl Probe<'_> {
    fn enter(&mut self) -> R<()> {
        self.st.depth += 1;
        if self.st.depth > 48 {
            return Err(ProbeError(
                "type nests too deeply (recursive types have no IDL mapping here)".into(),
            ));
        }
        Ok(())
    }
}

macro_rules! prim {
    ($($m:ident $fmt:ident $visit:ident $v:expr),*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
            *self.out = Format::$fmt;
            v.$visit($v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> R<V::Value> {
        Err(ProbeError("a field's Deserialize is self-describing (untagged, flatten, any): no fixed wire shape".into()))
    }
    prim!(
        deserialize_bool Bool visit_bool false, deserialize_i8 I8 visit_i8 0, deserialize_i16 I16 visit_i16 0,
        deserialize_i32 I32 visit_i32 0, deserialize_i64 I64 visit_i64 0, deserialize_u8 U8 visit_u8 0,
        deserialize_u16 U16 visit_u16 0, deserialize_u32 U32 visit_u32 0, deserialize_u64 U64 visit_u64 0,
        deserialize_f32 F32 visit_f32 0.0, deserialize_f64 F64 visit_f64 0.0, deserialize_char Char visit_char 'a',
        deserialize_i128 I128 visit_i128 0, deserialize_u128 U128 visit_u128 0
    );
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        *self.out = Format::Str;
        v.visit_str("")
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        *self.out = Format::Str;
        v.visit_string(String::new())
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        *self.out = Format::Bytes;
        v.visit_bytes(&[])
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        *self.out = Format::Bytes;
        v.visit_byte_buf(Vec::new())
    }
    fn deserialize_option<V: Visitor<'de>>(mut self, v: V) -> R<V::Value> {
        self.enter()?;
        let mut inner = Format::Unit;
        let r = v.visit_some(Probe {
            st: self.st,
            out: &mut inner,
        });
        *self.out = Format::Option(Box::new(inner));
        self.st.depth -= 1;
        r
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        *self.out = Format::Unit;
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> R<V::Value> {
        self.st
            .registry
            .insert(name.into(), ContainerFormat::UnitStruct);
        *self.out = Format::TypeName(name.into());
        v.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        v: V,
    ) -> R<V::Value> {
        if name == crate::bytes::F64S_NAME {
            // `F64s`: a plain `sequence<double>` on the wire.
            *self.out = Format::Seq(Box::new(Format::F64));
            return v.visit_byte_buf(Vec::new());
        }
        self.enter()?;
        let mut inner = Format::Unit;
        let r = v.visit_newtype_struct(Probe {
            st: self.st,
            out: &mut inner,
        });
        self.st
            .registry
            .insert(name.into(), ContainerFormat::NewTypeStruct(Box::new(inner)));
        *self.out = Format::TypeName(name.into());
        self.st.depth -= 1;
        r
    }
    fn deserialize_seq<V: Visitor<'de>>(mut self, v: V) -> R<V::Value> {
        self.enter()?;
        let mut f = vec![Format::Unit];
        let r = v.visit_seq(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        *self.out = Format::Seq(Box::new(f.pop().unwrap_or(Format::Unit)));
        self.st.depth -= 1;
        r
    }
    fn deserialize_tuple<V: Visitor<'de>>(mut self, len: usize, v: V) -> R<V::Value> {
        self.enter()?;
        let mut f = vec![Format::Unit; len];
        let r = v.visit_seq(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        *self.out = if len > 0 && f.iter().all(|x| *x == f[0]) {
            Format::TupleArray {
                content: Box::new(f[0].clone()),
                size: len,
            }
        } else {
            Format::Tuple(f)
        };
        self.st.depth -= 1;
        r
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> R<V::Value> {
        self.enter()?;
        let mut f = vec![Format::Unit; len];
        let r = v.visit_seq(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        self.st
            .registry
            .insert(name.into(), ContainerFormat::TupleStruct(f));
        *self.out = Format::TypeName(name.into());
        self.st.depth -= 1;
        r
    }
    fn deserialize_map<V: Visitor<'de>>(mut self, v: V) -> R<V::Value> {
        self.enter()?;
        let mut f = vec![Format::Unit, Format::Unit];
        let r = v.visit_map(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        let value = f.pop().unwrap_or(Format::Unit);
        let key = f.pop().unwrap_or(Format::Unit);
        *self.out = Format::Map {
            key: Box::new(key),
            value: Box::new(value),
        };
        self.st.depth -= 1;
        r
    }
    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> R<V::Value> {
        self.enter()?;
        let mut f = vec![Format::Unit; fields.len()];
        let r = v.visit_seq(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        let named = fields
            .iter()
            .zip(f)
            .map(|(n, value)| Named {
                name: (*n).to_owned(),
                value,
            })
            .collect();
        self.st
            .registry
            .insert(name.into(), ContainerFormat::Struct(named));
        *self.out = Format::TypeName(name.into());
        self.st.depth -= 1;
        r
    }
    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> R<V::Value> {
        self.enter()?;
        let count = variants.len() as u32;
        let e = self
            .st
            .enums
            .entry(name.into())
            .or_insert_with(|| (count, 0, vec![false; variants.len()]));
        let index = e.1 % count.max(1);
        e.1 = index + 1;
        e.2[index as usize] = true;
        let mut vf = VariantFormat::Unit;
        let r = v.visit_enum(Variant {
            st: self.st,
            index,
            out: &mut vf,
        });
        let entry = self
            .st
            .registry
            .entry(name.into())
            .or_insert_with(|| ContainerFormat::Enum(BTreeMap::new()));
        if let ContainerFormat::Enum(m) = entry {
            m.insert(
                index,
                Named {
                    name: variants[index as usize].to_owned(),
                    value: vf,
                },
            );
        }
        *self.out = Format::TypeName(name.into());
        self.st.depth -= 1;
        r
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        v.visit_u32(0)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        v.visit_unit()
    }
}

struct Elems<'a> {
    st: &'a mut State,
    formats: &'a mut Vec<Format>,
    next: usize,
}

impl<'de> de::SeqAccess<'de> for Elems<'_> {
    type Error = ProbeError;
    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, s: S) -> R<Option<S::Value>> {
        let Some(slot) = self.formats.get_mut(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        s.deserialize(Probe {
            st: self.st,
            out: slot,
        })
        .map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Elems<'_> {
    type Error = ProbeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, s: K) -> R<Option<K::Value>> {
        if self.next > 0 {
            return Ok(None);
        }
        self.next = 1;
        s.deserialize(Probe {
            st: self.st,
            out: &mut self.formats[0],
        })
        .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, s: V) -> R<V::Value> {
        s.deserialize(Probe {
            st: self.st,
            out: &mut self.formats[1],
        })
    }
}

struct Variant<'a> {
    st: &'a mut State,
    index: u32,
    out: &'a mut VariantFormat,
}

impl<'de, 'a> de::EnumAccess<'de> for Variant<'a> {
    type Error = ProbeError;
    type Variant = Self;
    fn variant_seed<S: DeserializeSeed<'de>>(self, s: S) -> R<(S::Value, Self)> {
        let d: de::value::U32Deserializer<ProbeError> = self.index.into_deserializer();
        Ok((s.deserialize(d)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = ProbeError;
    fn unit_variant(self) -> R<()> {
        *self.out = VariantFormat::Unit;
        Ok(())
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, s: S) -> R<S::Value> {
        let mut f = Format::Unit;
        let r = s.deserialize(Probe {
            st: self.st,
            out: &mut f,
        });
        *self.out = VariantFormat::NewType(Box::new(f));
        r
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> R<V::Value> {
        let mut f = vec![Format::Unit; len];
        let r = v.visit_seq(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        *self.out = VariantFormat::Tuple(f);
        r
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], v: V) -> R<V::Value> {
        let mut f = vec![Format::Unit; fields.len()];
        let r = v.visit_seq(Elems {
            st: self.st,
            formats: &mut f,
            next: 0,
        });
        *self.out = VariantFormat::Struct(
            fields
                .iter()
                .zip(f)
                .map(|(n, value)| Named {
                    name: (*n).to_owned(),
                    value,
                })
                .collect(),
        );
        r
    }
}
