//! The DDS view of a bus type: its shape traced from its serde
//! implementation, and the IDL that describes it to other DDS programs.
//!
//! Mapping (XCDR1, `@final`): integers, floats and `bool` map to the IDL
//! primitives of the same width; `char` to `unsigned long`; `String` and
//! `Arc<str>` to `string`; `Vec<T>` to `sequence<T>`; `Option<T>` to
//! `sequence<T, 1>` (XCDR1 has no optional members in final types); `[T; N]`
//! to an array; newtype structs to their content; enums whose variants carry
//! no data to an IDL `enum`; other enums to a `union` switched on the variant
//! index (`unsigned long`), data-less variants having no case.

use std::collections::BTreeMap;

use serde_reflection::{ContainerFormat, Format, Named, VariantFormat};

use crate::TopicType;

/// The shape of a value, as far as CDR and Cyclone's type ops care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    Str,
    /// A sequence; bounded when the bound is `Some`.
    Seq(Box<Ty>, Option<u32>),
    Arr(Box<Ty>, u32),
    /// A named enum without data: number of variants.
    Enum(String, u32),
    /// A named struct or union, see [`Schema::types`].
    Named(String),
    /// Serialises to nothing.
    Unit,
}

/// A named type of the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NamedTy {
    Struct(Vec<(String, Ty)>),
    /// Cases `(discriminant, name, type)`; variants without data have no case.
    Union {
        cases: Vec<(u32, String, Ty)>,
        variants: u32,
    },
    Enum(Vec<String>),
}

/// A topic type's full shape.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    /// IDL-scoped name of the top-level struct (`twin::control::State`).
    pub(crate) top: String,
    /// Every named type by IDL-scoped name, dependencies included.
    pub(crate) types: BTreeMap<String, NamedTy>,
    /// Top-level fields that are keys, in definition order.
    pub(crate) keys: Vec<String>,
}

/// Why a type cannot be described.
pub(crate) type SchemaError = String;

impl Schema {
    /// Traces `T`'s serde implementation.
    pub(crate) fn of<T: TopicType>() -> Result<Schema, SchemaError> {
        let (format, registry) = trace::<T>()?;
        let Format::TypeName(rust_top) = format else {
            return Err(format!("{} must be a struct", T::TYPE_NAME));
        };
        let (module, _) = T::TYPE_NAME
            .rsplit_once("::")
            .unwrap_or(("twin", T::TYPE_NAME));
        let mut b = Builder {
            registry: &registry,
            building: Vec::new(),
            module: module.to_owned(),
            types: BTreeMap::new(),
            rust_top: rust_top.clone(),
            top: T::TYPE_NAME.to_owned(),
        };
        let top_ty = b.container(&rust_top)?;
        let top = match top_ty {
            Ty::Named(n) if matches!(b.types.get(&n), Some(NamedTy::Struct(_))) => n,
            _ => return Err(format!("{} must be a struct with fields", T::TYPE_NAME)),
        };
        let keys: Vec<String> = T::KEY_FIELDS.iter().map(|s| (*s).to_owned()).collect();
        let Some(NamedTy::Struct(fields)) = b.types.get(&top) else {
            unreachable!("checked above")
        };
        for k in &keys {
            match fields.iter().find(|(n, _)| n == k) {
                None => return Err(format!("{}: key field `{k}` is not a field", T::TYPE_NAME)),
                Some((_, ty)) if !ty.is_key_type() => {
                    return Err(format!(
                        "{}: key field `{k}` must be an integer, bool, enum or string",
                        T::TYPE_NAME
                    ))
                }
                _ => {}
            }
        }
        let keyed = std::any::TypeId::of::<T::Key>() != std::any::TypeId::of::<()>();
        if keyed && keys.is_empty() {
            return Err(format!(
                "{} has a key but declares no TopicType::KEY_FIELDS",
                T::TYPE_NAME
            ));
        }
        Ok(Schema {
            top,
            types: b.types,
            keys,
        })
    }

    /// The IDL text of the type and its dependencies, one module per scope.
    pub(crate) fn idl(&self) -> String {
        let mut out = String::new();
        // Dependencies first: a named type is emitted after what it uses.
        let mut done = Vec::new();
        self.emit(&self.top, &mut done, &mut out);
        out
    }

    fn emit(&self, name: &str, done: &mut Vec<String>, out: &mut String) {
        if done.iter().any(|d| d == name) {
            return;
        }
        done.push(name.to_owned());
        let Some(t) = self.types.get(name) else {
            return;
        };
        let mut deps = Vec::new();
        match t {
            NamedTy::Struct(f) => f.iter().for_each(|(_, ty)| ty.named_deps(&mut deps)),
            NamedTy::Union { cases, .. } => {
                cases.iter().for_each(|(_, _, ty)| ty.named_deps(&mut deps))
            }
            NamedTy::Enum(_) => {}
        }
        for d in deps {
            self.emit(&d, done, out);
        }
        let (module, short) = name.rsplit_once("::").unwrap_or(("", name));
        let mods: Vec<&str> = module.split("::").filter(|m| !m.is_empty()).collect();
        for m in &mods {
            out.push_str(&format!("module {m} {{ "));
        }
        match t {
            NamedTy::Struct(fields) => {
                let mut tds = Vec::new();
                let mut body = String::new();
                for (f, ty) in fields {
                    let key = if name == self.top && self.keys.contains(f) {
                        "@key "
                    } else {
                        ""
                    };
                    let decl = ty.idl_decl_td(f, &format!("{short}_{f}"), &mut tds);
                    body.push_str(&format!("  {key}{decl};\n"));
                }
                push_typedefs(out, &tds);
                out.push_str(&format!("\n@final struct {short} {{\n{body}}};\n"));
            }
            NamedTy::Union { cases, variants } => {
                out.push_str(&format!(
                    "
// variants 0..{variants}; a discriminant without a case carries no data
@final union {short} switch (unsigned long) {{
"
                ));
                let mut tds = Vec::new();
                for (d, n, ty) in cases {
                    let decl = ty.idl_decl_td(n, &format!("{short}_{n}"), &mut tds);
                    out.push_str(&format!("  case {d}: {decl};\n"));
                }
                out.push_str("};\n");
                if !tds.is_empty() {
                    // Typedefs must precede the union that uses them.
                    let at = out.rfind("\n// variants").unwrap_or(out.len());
                    let mut head = String::new();
                    push_typedefs(&mut head, &tds);
                    out.insert_str(at, &head);
                }
            }
            NamedTy::Enum(vs) => {
                out.push_str(&format!("\nenum {short} {{ {} }};\n", vs.join(", ")));
            }
        }
        for _ in &mods {
            out.push_str("};\n");
        }
    }
}

/// Writes `typedef` lines (inside the current module).
fn push_typedefs(out: &mut String, tds: &[String]) {
    for t in tds {
        out.push_str(&format!("\n{t}"));
    }
}

/// Traces `T` (see [`super::probe`]).
fn trace<T: TopicType>() -> Result<(Format, BTreeMap<String, ContainerFormat>), SchemaError> {
    super::probe::trace::<T>()
        .map_err(|e| format!("cannot trace the serde shape of {}: {e}", T::TYPE_NAME))
}

impl Ty {
    pub(crate) fn is_key_type(&self) -> bool {
        matches!(
            self,
            Ty::Bool
                | Ty::I8
                | Ty::U8
                | Ty::I16
                | Ty::U16
                | Ty::I32
                | Ty::U32
                | Ty::I64
                | Ty::U64
                | Ty::Str
                | Ty::Enum(..)
        )
    }

    fn named_deps(&self, out: &mut Vec<String>) {
        match self {
            Ty::Named(n) | Ty::Enum(n, _) => out.push(n.clone()),
            Ty::Seq(t, _) | Ty::Arr(t, _) => t.named_deps(out),
            _ => {}
        }
    }

    fn idl_type(&self) -> String {
        match self {
            Ty::Bool => "boolean".into(),
            Ty::I8 => "int8".into(),
            Ty::U8 => "octet".into(),
            Ty::I16 => "short".into(),
            Ty::U16 => "unsigned short".into(),
            Ty::I32 => "long".into(),
            Ty::U32 => "unsigned long".into(),
            Ty::I64 => "long long".into(),
            Ty::U64 => "unsigned long long".into(),
            Ty::F32 => "float".into(),
            Ty::F64 => "double".into(),
            Ty::Str => "string".into(),
            Ty::Seq(t, None) => format!("sequence<{}>", t.idl_type()),
            Ty::Seq(t, Some(b)) => format!("sequence<{}, {b}>", t.idl_type()),
            Ty::Arr(t, _) => t.idl_type(),
            Ty::Enum(n, _) | Ty::Named(n) => format!("::{n}"),
            Ty::Unit => "octet".into(),
        }
    }

    /// The declaration of `field`. IDL cannot write a sequence of arrays
    /// inline, so such an element type becomes a typedef named after
    /// `hint`, pushed to `tds`; nested arrays keep every dimension.
    fn idl_decl_td(&self, field: &str, hint: &str, tds: &mut Vec<String>) -> String {
        let (base, dims) = self.array_dims();
        let dims: String = dims.iter().map(|n| format!("[{n}]")).collect();
        format!("{} {field}{dims}", base.idl_type_td(hint, tds))
    }

    /// The element type under nested arrays and their sizes, outermost first.
    fn array_dims(&self) -> (&Ty, Vec<u32>) {
        let mut t = self;
        let mut dims = Vec::new();
        while let Ty::Arr(e, n) = t {
            dims.push(*n);
            t = e;
        }
        (t, dims)
    }

    fn idl_type_td(&self, hint: &str, tds: &mut Vec<String>) -> String {
        match self {
            Ty::Seq(t, bound) => {
                let inner = if matches!(**t, Ty::Arr(..)) {
                    let name = format!("{hint}_elem");
                    let decl = t.idl_decl_td(&name, &format!("{hint}_e"), tds);
                    tds.push(format!("typedef {decl};"));
                    name
                } else {
                    t.idl_type_td(&format!("{hint}_e"), tds)
                };
                match bound {
                    None => format!("sequence<{inner}>"),
                    Some(b) => format!("sequence<{inner}, {b}>"),
                }
            }
            _ => self.idl_type(),
        }
    }
}

struct Builder<'a> {
    registry: &'a BTreeMap<String, ContainerFormat>,
    building: Vec<String>,
    module: String,
    types: BTreeMap<String, NamedTy>,
    rust_top: String,
    top: String,
}

impl Builder<'_> {
    /// The IDL name of a Rust container: the topic type gets its
    /// `TYPE_NAME`; others `<module of TYPE_NAME>::<Rust name>`, with the
    /// suffix `Value` if that would clash with the topic type's name.
    fn scoped(&self, rust_name: &str) -> String {
        if rust_name == self.rust_top {
            return self.top.clone();
        }
        let n = format!("{}::{rust_name}", self.module);
        if n == self.top {
            format!("{n}Value")
        } else {
            n
        }
    }

    fn container(&mut self, rust_name: &str) -> Result<Ty, SchemaError> {
        let name = self.scoped(rust_name);
        if self.building.contains(&name) {
            return Err(format!(
                "`{rust_name}` contains itself: recursive types have no IDL mapping here"
            ));
        }
        if let Some(t) = self.types.get(&name) {
            return Ok(match t {
                NamedTy::Enum(v) => Ty::Enum(name, v.len() as u32),
                _ => Ty::Named(name),
            });
        }
        self.building.push(name.clone());
        let r = self.container_body(rust_name, name);
        self.building.pop();
        r
    }

    fn container_body(&mut self, rust_name: &str, name: String) -> Result<Ty, SchemaError> {
        let c = self
            .registry
            .get(rust_name)
            .ok_or_else(|| format!("type `{rust_name}` missing from the trace"))?
            .clone();
        match c {
            ContainerFormat::UnitStruct => Ok(Ty::Unit),
            ContainerFormat::NewTypeStruct(f) => self.format(&f, &name),
            ContainerFormat::TupleStruct(fs) => {
                let fields = self.tuple_fields(&fs, &name)?;
                self.types.insert(name.clone(), NamedTy::Struct(fields));
                Ok(Ty::Named(name))
            }
            ContainerFormat::Struct(fs) => {
                // Reserve the name first so recursive types are reported, not looped.
                self.types.insert(name.clone(), NamedTy::Struct(Vec::new()));
                let fields = self.named_fields(&fs, &name)?;
                self.types.insert(name.clone(), NamedTy::Struct(fields));
                Ok(Ty::Named(name))
            }
            ContainerFormat::Enum(vs) => {
                let count = vs.len() as u32;
                if vs.keys().copied().ne(0..count) {
                    return Err(format!(
                        "enum `{rust_name}`: variant indices are not 0..{count}"
                    ));
                }
                if vs.values().all(|v| matches!(v.value, VariantFormat::Unit)) {
                    let names = vs.values().map(|v| v.name.clone()).collect::<Vec<_>>();
                    self.types.insert(name.clone(), NamedTy::Enum(names));
                    return Ok(Ty::Enum(name, count));
                }
                self.types.insert(name.clone(), NamedTy::Struct(Vec::new()));
                let mut cases = Vec::new();
                for (i, v) in &vs {
                    let member = v.name.to_lowercase();
                    let vname = format!("{name}_{}", v.name);
                    let ty = match &v.value {
                        VariantFormat::Unit => continue,
                        VariantFormat::NewType(f) => self.format(f, &vname)?,
                        VariantFormat::Tuple(fs) => {
                            let fields = self.tuple_fields(fs, &vname)?;
                            self.types.insert(vname.clone(), NamedTy::Struct(fields));
                            Ty::Named(vname)
                        }
                        VariantFormat::Struct(fs) if fs.is_empty() => continue,
                        VariantFormat::Struct(fs) => {
                            let fields = self.named_fields(fs, &vname)?;
                            self.types.insert(vname.clone(), NamedTy::Struct(fields));
                            Ty::Named(vname)
                        }
                        VariantFormat::Variable(_) => {
                            return Err(format!("enum `{rust_name}`: variant {} untraced", v.name))
                        }
                    };
                    if ty != Ty::Unit {
                        cases.push((*i, member, ty));
                    }
                }
                self.types.insert(
                    name.clone(),
                    NamedTy::Union {
                        cases,
                        variants: count,
                    },
                );
                Ok(Ty::Named(name))
            }
        }
    }

    fn named_fields(
        &mut self,
        fs: &[Named<Format>],
        ctx: &str,
    ) -> Result<Vec<(String, Ty)>, SchemaError> {
        let mut out = Vec::new();
        for f in fs {
            let ty = self.format(&f.value, &format!("{ctx}_{}", f.name))?;
            if ty != Ty::Unit {
                out.push((f.name.clone(), ty));
            }
        }
        Ok(out)
    }

    fn tuple_fields(&mut self, fs: &[Format], ctx: &str) -> Result<Vec<(String, Ty)>, SchemaError> {
        let mut out = Vec::new();
        for (i, f) in fs.iter().enumerate() {
            let ty = self.format(f, &format!("{ctx}_{i}"))?;
            if ty != Ty::Unit {
                out.push((format!("_{i}"), ty));
            }
        }
        Ok(out)
    }

    /// `ctx` names anonymous structs (tuples, map entries) made for this format.
    fn format(&mut self, f: &Format, ctx: &str) -> Result<Ty, SchemaError> {
        Ok(match f {
            Format::TypeName(n) => self.container(n)?,
            Format::Unit => Ty::Unit,
            Format::Bool => Ty::Bool,
            Format::I8 => Ty::I8,
            Format::I16 => Ty::I16,
            Format::I32 => Ty::I32,
            Format::I64 => Ty::I64,
            Format::U8 => Ty::U8,
            Format::U16 => Ty::U16,
            Format::U32 | Format::Char => Ty::U32,
            Format::U64 => Ty::U64,
            Format::F32 => Ty::F32,
            Format::F64 => Ty::F64,
            Format::Str => Ty::Str,
            Format::Bytes => Ty::Seq(Box::new(Ty::U8), None),
            Format::Option(t) => Ty::Seq(Box::new(self.format(t, ctx)?), Some(1)),
            Format::Seq(t) => Ty::Seq(Box::new(self.format(t, ctx)?), None),
            Format::Map { key, value } => {
                let name = format!("{ctx}_Entry");
                let k = self.format(key, &format!("{ctx}_key"))?;
                let v = self.format(value, &format!("{ctx}_value"))?;
                self.types.insert(
                    name.clone(),
                    NamedTy::Struct(vec![("key".into(), k), ("value".into(), v)]),
                );
                Ty::Seq(Box::new(Ty::Named(name)), None)
            }
            Format::Tuple(fs) => {
                let name = format!("{ctx}_Tuple");
                let fields = self.tuple_fields(fs, &name)?;
                self.types.insert(name.clone(), NamedTy::Struct(fields));
                Ty::Named(name)
            }
            Format::TupleArray { content, size } => {
                Ty::Arr(Box::new(self.format(content, ctx)?), *size as u32)
            }
            Format::I128 | Format::U128 => {
                return Err(format!("{ctx}: 128-bit integers have no IDL type"))
            }
            Format::Variable(_) => return Err(format!("{ctx}: untraced format")),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Clone, Debug, Serialize, Deserialize)]
    enum Mode {
        A { x: u64 },
        B { y: u32 },
        C,
    }
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Inner {
        name: String,
        mode: Mode,
        when: Option<u64>,
    }
    #[derive(Clone, Debug, Serialize, Deserialize)]
    enum Rep {
        Join { mode: Mode },
        Ready,
    }
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Outer {
        members: Vec<Inner>,
        rep: Rep,
    }
    impl TopicType for Outer {
        const TYPE_NAME: &'static str = "t::Outer";
        type Key = ();
        fn key(&self) {}
    }

    #[derive(Clone, Debug, Serialize, Deserialize)]
    enum TimeMode {
        Stepped { dt: twin_core::SimDuration },
        Event { lookahead: twin_core::SimDuration },
        Untimed,
    }
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct MemberStatus {
        name: String,
        mode: TimeMode,
        requested: Option<twin_core::SimTime>,
    }
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Status {
        members: Vec<MemberStatus>,
    }
    impl TopicType for Status {
        const TYPE_NAME: &'static str = "t::Status";
        type Key = ();
        fn key(&self) {}
    }

    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct Points {
        pos: Vec<[f64; 3]>,
        grid: [[u32; 2]; 4],
    }
    impl TopicType for Points {
        const TYPE_NAME: &'static str = "t::Points";
        type Key = ();
        fn key(&self) {}
    }

    #[test]
    fn sequences_of_arrays_get_a_typedef_and_nested_arrays_keep_every_dimension() {
        let idl = Schema::of::<Points>().unwrap().idl();
        let td = idl.find("typedef double Points_pos_elem[3];").expect(&idl);
        let st = idl.find("@final struct Points").expect(&idl);
        assert!(td < st, "the typedef must precede its use: {idl}");
        assert!(idl.contains("sequence<Points_pos_elem> pos;"), "{idl}");
        assert!(idl.contains("unsigned long grid[4][2];"), "{idl}");
    }

    #[test]
    fn enums_met_only_inside_sequences_are_traced_completely() {
        let idl = Schema::of::<Status>().unwrap().idl();
        assert!(
            idl.contains("case 0: ::t::TimeMode_Stepped stepped;"),
            "{idl}"
        );
        assert!(idl.contains("case 1: ::t::TimeMode_Event event;"), "{idl}");
        assert!(idl.contains("// variants 0..3"), "{idl}");
        assert!(idl.contains("unsigned long long dt;"), "{idl}");
    }

    #[test]
    fn nested_enums_in_sequences_and_variants_are_traced_completely() {
        let s = Schema::of::<Outer>().unwrap();
        let idl = s.idl();
        assert!(
            idl.contains("@final union Mode switch (unsigned long)"),
            "{idl}"
        );
        assert!(idl.contains("case 0: ::t::Mode_A a;"), "{idl}");
        assert!(idl.contains("case 1: ::t::Mode_B b;"), "{idl}");
        assert!(idl.contains("sequence<::t::Inner> members;"), "{idl}");
        assert!(
            idl.contains("sequence<unsigned long long, 1> when;"),
            "{idl}"
        );
    }
}
