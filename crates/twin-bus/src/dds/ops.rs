//! Cyclone DDS type descriptors (`dds_topic_descriptor_t`) built at run time
//! from a [`Schema`]: the serialisation op codes that Cyclone interprets to
//! validate (normalise) received data, find keys and compute key hashes.
//!
//! The op-code format is Cyclone's (`dds/ddsc/dds_opcodes.h`): an `ADR`
//! instruction per member with the member's type code, flags and memory
//! offset; nested structs and unions as jumps (`EXT`, `JEQ4`) to their own
//! op blocks ending in `RTS`; key lists as `KOF` instructions. Memory offsets
//! follow the C layout Cyclone's IDL compiler would give the type, although
//! Twin never hands Cyclone a C sample (it writes and takes CDR only).

use std::collections::BTreeMap;

use super::schema::{NamedTy, Schema, Ty};

const OP_RTS: u32 = 0x00 << 24;
const OP_ADR: u32 = 0x01 << 24;
const OP_KOF: u32 = 0x07 << 24;
const OP_JEQ4: u32 = 0x08 << 24;

const VAL_1BY: u32 = 0x01;
const VAL_2BY: u32 = 0x02;
const VAL_4BY: u32 = 0x03;
const VAL_8BY: u32 = 0x04;
const VAL_STR: u32 = 0x05;
const VAL_SEQ: u32 = 0x07;
const VAL_ARR: u32 = 0x08;
const VAL_UNI: u32 = 0x09;
const VAL_STU: u32 = 0x0a;
const VAL_BSQ: u32 = 0x0b;
const VAL_ENU: u32 = 0x0c;
const VAL_EXT: u32 = 0x0d;
const VAL_BLN: u32 = 0x0e;

const FLAG_KEY: u32 = 1 << 0;
const FLAG_FP: u32 = 1 << 1;
const FLAG_SGN: u32 = 1 << 2;
const FLAG_MU: u32 = 1 << 3;
/// Enum storage of 4 bytes (bit bound 32).
const FLAG_SZ4: u32 = 2 << 6;

/// `DDS_TOPIC_NO_OPTIMIZE`.
pub(crate) const TOPIC_NO_OPTIMIZE: u32 = 1 << 0;
/// `DDS_TOPIC_FIXED_KEY`.
pub(crate) const TOPIC_FIXED_KEY: u32 = 1 << 1;
/// `DDS_TOPIC_CONTAINS_UNION`.
pub(crate) const TOPIC_CONTAINS_UNION: u32 = 1 << 2;
/// `DDS_TOPIC_FIXED_KEY_XCDR2`.
pub(crate) const TOPIC_FIXED_KEY_XCDR2: u32 = 1 << 5;

/// Everything a `dds_topic_descriptor_t` needs, owned.
#[derive(Clone, Debug)]
pub(crate) struct Descriptor {
    pub(crate) size: u32,
    pub(crate) align: u32,
    pub(crate) flagset: u32,
    pub(crate) ops: Vec<u32>,
    /// `(field name, index of its KOF op, key index)`.
    pub(crate) keys: Vec<(String, u32, u32)>,
}

/// A reference to patch once every block's position is known.
struct Patch {
    /// Op to OR the offset into.
    at: usize,
    /// Instruction the offset is relative to.
    base: usize,
    /// Named type whose block is the target.
    target: String,
    /// Shift of the 16-bit offset in the op.
    shift: u32,
}

struct Gen<'a> {
    schema: &'a Schema,
    ops: Vec<u32>,
    patches: Vec<Patch>,
    blocks: BTreeMap<String, usize>,
    pending: Vec<String>,
    has_union: bool,
}

/// Memory `(size, align)` of a type in Cyclone's C mapping.
fn layout(s: &Schema, ty: &Ty) -> (u32, u32) {
    match ty {
        Ty::Bool | Ty::I8 | Ty::U8 => (1, 1),
        Ty::I16 | Ty::U16 => (2, 2),
        Ty::I32 | Ty::U32 | Ty::F32 | Ty::Enum(..) => (4, 4),
        Ty::I64 | Ty::U64 | Ty::F64 => (8, 8),
        Ty::Str => (8, 8),
        Ty::Seq(..) => (24, 8), // dds_sequence_t: max, len, buffer, release
        Ty::Arr(t, n) => {
            let (sz, al) = layout(s, t);
            (sz * n, al)
        }
        Ty::Named(n) => named_layout(s, n).0,
        Ty::Unit => (0, 1),
    }
}

fn align_up(x: u32, a: u32) -> u32 {
    x.div_ceil(a) * a
}

/// Layout of a named type and, for structs, its member offsets (for unions
/// the single offset of the member union after the discriminant).
fn named_layout(s: &Schema, name: &str) -> ((u32, u32), Vec<u32>) {
    match s.types.get(name) {
        Some(NamedTy::Struct(fields)) => {
            let (mut off, mut al, mut offs) = (0, 1, Vec::new());
            for (_, ty) in fields {
                let (fs, fa) = layout(s, ty);
                off = align_up(off, fa);
                offs.push(off);
                off += fs;
                al = al.max(fa);
            }
            ((align_up(off.max(1), al), al), offs)
        }
        Some(NamedTy::Union { cases, .. }) => {
            let (mut msz, mut mal) = (0, 1);
            for (_, _, ty) in cases {
                let (fs, fa) = layout(s, ty);
                msz = msz.max(fs);
                mal = mal.max(fa);
            }
            let moff = align_up(4, mal);
            let al = mal.max(4);
            ((align_up(moff + msz, al), al), vec![moff])
        }
        Some(NamedTy::Enum(_)) => ((4, 4), Vec::new()),
        None => ((0, 1), Vec::new()),
    }
}

fn prim_code(ty: &Ty) -> Option<(u32, u32)> {
    Some(match ty {
        Ty::I8 => (VAL_1BY, FLAG_SGN),
        Ty::U8 => (VAL_1BY, 0),
        Ty::I16 => (VAL_2BY, FLAG_SGN),
        Ty::U16 => (VAL_2BY, 0),
        Ty::I32 => (VAL_4BY, FLAG_SGN),
        Ty::U32 => (VAL_4BY, 0),
        Ty::F32 => (VAL_4BY, FLAG_FP),
        Ty::I64 => (VAL_8BY, FLAG_SGN),
        Ty::U64 => (VAL_8BY, 0),
        Ty::F64 => (VAL_8BY, FLAG_FP),
        _ => return None,
    })
}

impl Gen<'_> {
    fn type_code(&self, ty: &Ty) -> u32 {
        match ty {
            Ty::Bool => VAL_BLN,
            Ty::Str => VAL_STR,
            Ty::Seq(_, None) => VAL_SEQ,
            Ty::Seq(_, Some(_)) => VAL_BSQ,
            Ty::Arr(..) => VAL_ARR,
            Ty::Enum(..) => VAL_ENU,
            Ty::Named(n) => match self.schema.types.get(n) {
                Some(NamedTy::Union { .. }) => VAL_UNI,
                _ => VAL_STU,
            },
            t => prim_code(t).map_or(VAL_1BY, |(c, _)| c),
        }
    }

    fn want(&mut self, name: &str) {
        if !self.blocks.contains_key(name) && !self.pending.iter().any(|p| p == name) {
            self.pending.push(name.to_owned());
        }
    }

    fn patch(&mut self, at: usize, base: usize, target: &str, shift: u32) {
        self.want(target);
        self.patches.push(Patch {
            at,
            base,
            target: target.to_owned(),
            shift,
        });
    }

    /// Emits the ops of one member of type `ty` at memory `offset`.
    fn member(&mut self, ty: &Ty, flags: u32, offset: u32) {
        let adr = self.ops.len();
        match ty {
            Ty::Unit => {}
            Ty::Bool => self.ops.extend([OP_ADR | VAL_BLN << 16 | flags, offset]),
            Ty::Str => self.ops.extend([OP_ADR | VAL_STR << 16 | flags, offset]),
            Ty::Enum(_, n) => self.ops.extend([
                OP_ADR | VAL_ENU << 16 | flags | FLAG_SZ4,
                offset,
                n.saturating_sub(1),
            ]),
            Ty::Named(n) => {
                self.ops
                    .extend([OP_ADR | VAL_EXT << 16 | flags, offset, 3 << 16]);
                self.patch(adr + 2, adr, n, 0);
            }
            Ty::Seq(elem, bound) => {
                let code = if bound.is_some() { VAL_BSQ } else { VAL_SEQ };
                let ec = self.type_code(elem);
                let eflags = match elem.as_ref() {
                    Ty::Enum(..) => FLAG_SZ4,
                    t => prim_code(t).map_or(0, |(_, f)| f),
                };
                self.ops
                    .extend([OP_ADR | code << 16 | ec << 8 | flags | eflags, offset]);
                if let Some(b) = bound {
                    self.ops.push(*b);
                }
                let hdr = if bound.is_some() { 5 } else { 4 };
                match elem.as_ref() {
                    Ty::Enum(_, n) => self.ops.push(n.saturating_sub(1)),
                    Ty::Named(n) => {
                        let (esz, _) = layout(self.schema, elem);
                        self.ops.push(esz);
                        let at = self.ops.len();
                        self.ops.push(hdr << 16);
                        self.patch(at, adr, n, 0);
                    }
                    Ty::Seq(..) | Ty::Arr(..) => {
                        let (esz, _) = layout(self.schema, elem);
                        self.ops.push(esz);
                        let at = self.ops.len();
                        self.ops.push(hdr);
                        self.member(elem, 0, 0);
                        self.ops.push(OP_RTS);
                        self.ops[at] |= ((self.ops.len() - adr) as u32) << 16;
                    }
                    _ => {}
                }
            }
            Ty::Arr(elem, n) => {
                let ec = self.type_code(elem);
                let eflags = match elem.as_ref() {
                    Ty::Enum(..) => FLAG_SZ4,
                    t => prim_code(t).map_or(0, |(_, f)| f),
                };
                self.ops.extend([
                    OP_ADR | VAL_ARR << 16 | ec << 8 | flags | eflags,
                    offset,
                    *n,
                ]);
                match elem.as_ref() {
                    Ty::Enum(_, m) => self.ops.push(m.saturating_sub(1)),
                    Ty::Named(name) => {
                        let (esz, _) = layout(self.schema, elem);
                        let at = self.ops.len();
                        self.ops.extend([5 << 16, esz]);
                        self.patch(at, adr, name, 0);
                    }
                    Ty::Seq(..) | Ty::Arr(..) => {
                        let (esz, _) = layout(self.schema, elem);
                        let at = self.ops.len();
                        self.ops.extend([5, esz]);
                        self.member(elem, 0, 0);
                        self.ops.push(OP_RTS);
                        self.ops[at] |= ((self.ops.len() - adr) as u32) << 16;
                    }
                    _ => {}
                }
            }
            t => {
                let (c, f) = prim_code(t).expect("primitive");
                self.ops.extend([OP_ADR | c << 16 | flags | f, offset]);
            }
        }
    }

    /// Emits the op block of named type `name`, ending in `RTS`.
    fn block(&mut self, name: &str) -> Result<(), String> {
        self.blocks.insert(name.to_owned(), self.ops.len());
        let t = self
            .schema
            .types
            .get(name)
            .cloned()
            .ok_or_else(|| format!("unknown type {name}"))?;
        let (_, offs) = named_layout(self.schema, name);
        match t {
            NamedTy::Struct(fields) => {
                for ((f, ty), off) in fields.iter().zip(offs) {
                    let key = name == self.schema.top && self.schema.keys.contains(f);
                    self.member(ty, if key { FLAG_KEY } else { 0 }, off);
                }
            }
            NamedTy::Union { cases, .. } => {
                self.has_union = true;
                let adr = self.ops.len();
                self.ops.extend([
                    OP_ADR | VAL_UNI << 16 | VAL_4BY << 8 | FLAG_MU,
                    0,
                    cases.len() as u32,
                    4,
                ]);
                let first_case = self.ops.len();
                let mut inline = first_case + 4 * cases.len();
                self.ops.resize(inline, 0);
                let moff = offs[0];
                for (i, (disc, _, ty)) in cases.iter().enumerate() {
                    let j = first_case + 4 * i;
                    let code = self.type_code(ty);
                    match ty {
                        Ty::Named(n) => {
                            self.ops[j..j + 4].copy_from_slice(&[
                                OP_JEQ4 | code << 16,
                                *disc,
                                moff,
                                0,
                            ]);
                            self.patch(j, j, n, 0);
                        }
                        Ty::Enum(_, n) => self.ops[j..j + 4].copy_from_slice(&[
                            OP_JEQ4 | VAL_ENU << 16 | FLAG_SZ4,
                            *disc,
                            moff,
                            n.saturating_sub(1),
                        ]),
                        Ty::Seq(..) | Ty::Arr(..) => {
                            self.ops[j..j + 4].copy_from_slice(&[
                                OP_JEQ4 | code << 16 | (inline - j) as u32,
                                *disc,
                                moff,
                                0,
                            ]);
                            // Inline ops for the case go after all case labels.
                            let mut tail = self.ops.split_off(inline);
                            self.member(ty, 0, 0);
                            self.ops.push(OP_RTS);
                            inline = self.ops.len();
                            self.ops.append(&mut tail);
                        }
                        t => {
                            let f = prim_code(t).map_or(0, |(_, f)| f);
                            self.ops[j..j + 4].copy_from_slice(&[
                                OP_JEQ4 | code << 16 | f,
                                *disc,
                                moff,
                                0,
                            ]);
                        }
                    }
                }
                self.ops.truncate(inline);
                self.ops[adr + 3] |= ((inline - adr) as u32) << 16;
            }
            NamedTy::Enum(_) => return Err(format!("enum {name} has no op block")),
        }
        self.ops.push(OP_RTS);
        Ok(())
    }
}

/// XCDR1 serialised size of a fixed-size key type, if fixed.
fn fixed_key_size(ty: &Ty) -> Option<u32> {
    Some(match ty {
        Ty::Bool | Ty::I8 | Ty::U8 => 1,
        Ty::I16 | Ty::U16 => 2,
        Ty::I32 | Ty::U32 | Ty::F32 | Ty::Enum(..) => 4,
        Ty::I64 | Ty::U64 | Ty::F64 => 8,
        _ => return None,
    })
}

/// Builds the descriptor of `schema`.
pub(crate) fn descriptor(schema: &Schema) -> Result<Descriptor, String> {
    let mut g = Gen {
        schema,
        ops: Vec::new(),
        patches: Vec::new(),
        blocks: BTreeMap::new(),
        pending: Vec::new(),
        has_union: false,
    };
    g.block(&schema.top)?;
    while let Some(n) = g.pending.pop() {
        if !g.blocks.contains_key(&n) {
            g.block(&n)?;
        }
    }
    for p in &g.patches {
        let target = g.blocks[&p.target];
        let rel = target
            .checked_sub(p.base)
            .filter(|r| *r <= 0xffff)
            .ok_or_else(|| {
                format!(
                    "type {} too large for Cyclone's 16-bit op offsets",
                    schema.top
                )
            })?;
        g.ops[p.at] |= (rel as u32) << p.shift;
    }
    // Key lists: one KOF per key naming the ADR of the top-level member.
    let Some(NamedTy::Struct(fields)) = schema.types.get(&schema.top) else {
        return Err(format!("{} is not a struct", schema.top));
    };
    let mut adr_of = Vec::new();
    let mut i = 0;
    for (f, ty) in fields {
        adr_of.push((f.clone(), i as u32, ty.clone()));
        i += op_len(&g.ops, i);
    }
    let mut keys = Vec::new();
    let (mut fixed, mut ksize) = (true, 0);
    for (idx, k) in schema.keys.iter().enumerate() {
        let (_, adr, ty) = adr_of
            .iter()
            .find(|(f, ..)| f == k)
            .ok_or_else(|| format!("key {k} missing"))?;
        let kof = g.ops.len() as u32;
        g.ops.extend([OP_KOF | 1, *adr]);
        keys.push((k.clone(), kof, idx as u32));
        match fixed_key_size(ty) {
            Some(s) => ksize = align_up(ksize, s) + s,
            None => fixed = false,
        }
    }
    let ((size, align), _) = named_layout(schema, &schema.top);
    let mut flagset = TOPIC_NO_OPTIMIZE;
    if !keys.is_empty() && fixed && ksize <= 16 {
        flagset |= TOPIC_FIXED_KEY | TOPIC_FIXED_KEY_XCDR2;
    }
    if g.has_union {
        flagset |= TOPIC_CONTAINS_UNION;
    }
    Ok(Descriptor {
        size,
        align,
        flagset,
        ops: g.ops,
        keys,
    })
}

/// Length in words of the top-level member instruction at `i`.
fn op_len(ops: &[u32], i: usize) -> usize {
    let op = ops[i];
    let ty = (op >> 16) & 0x7f;
    let sub = (op >> 8) & 0xff;
    match ty {
        VAL_ENU => 3,
        VAL_EXT => 3,
        VAL_SEQ | VAL_BSQ => {
            let b = usize::from(ty == VAL_BSQ);
            match sub {
                VAL_ENU => 3 + b,
                VAL_STU | VAL_UNI => 4 + b,
                VAL_SEQ | VAL_BSQ | VAL_ARR => (ops[i + 3 + b] >> 16) as usize,
                _ => 2 + b,
            }
        }
        VAL_ARR => match sub {
            VAL_ENU => 4,
            VAL_STU | VAL_UNI => 5,
            VAL_SEQ | VAL_BSQ | VAL_ARR => (ops[i + 3] >> 16) as usize,
            _ => 3,
        },
        _ => 2,
    }
}
