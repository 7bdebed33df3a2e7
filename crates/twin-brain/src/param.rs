//! Model parameters that are either one value or one value per region.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::BrainError;

/// A model parameter: a scalar, or one value per region ("spatialised" in TVB's words).
///
/// Serialises as a number or an array. Before a simulation the simulator calls
/// [`prepare`](Self::prepare), which broadcasts a scalar to every region so that
/// model kernels index one slice without branching.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    given: Vec<f64>,
    full: Vec<f64>,
}

impl Param {
    /// A scalar parameter.
    pub fn scalar(v: f64) -> Self {
        Param {
            given: vec![v],
            full: vec![v],
        }
    }

    /// A per-region parameter.
    pub fn per_region(v: Vec<f64>) -> Self {
        Param {
            full: v.clone(),
            given: v,
        }
    }

    /// The values as given (one, or one per region).
    pub fn values(&self) -> &[f64] {
        &self.given
    }

    /// The first value (the value, for a scalar).
    pub fn first(&self) -> f64 {
        self.given[0]
    }

    /// Replaces the values (takes effect at the next [`prepare`](Self::prepare)).
    pub fn set(&mut self, v: Vec<f64>) {
        self.full = v.clone();
        self.given = v;
    }

    /// Broadcasts to `n` regions; fails if the parameter has neither 1 nor `n` values.
    pub fn prepare(&mut self, name: &str, n: usize) -> Result<(), BrainError> {
        match self.given.len() {
            1 => self.full = vec![self.given[0]; n],
            k if k == n => self.full = self.given.clone(),
            k => {
                return Err(BrainError::ParamLength {
                    name: name.to_string(),
                    expected: n,
                    got: k,
                })
            }
        }
        Ok(())
    }

    /// The first `n` prepared values (`n` must not exceed the prepared length).
    #[inline]
    pub fn slice(&self, n: usize) -> &[f64] {
        &self.full[..n]
    }

    /// The prepared per-region values (valid after [`prepare`](Self::prepare)).
    #[inline]
    pub fn s(&self) -> &[f64] {
        &self.full
    }
}

impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::scalar(v)
    }
}

impl From<Vec<f64>> for Param {
    fn from(v: Vec<f64>) -> Self {
        Param::per_region(v)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ParamRepr {
    One(f64),
    Many(Vec<f64>),
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.given.as_slice() {
            [v] => ParamRepr::One(*v).serialize(s),
            v => ParamRepr::Many(v.to_vec()).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match ParamRepr::deserialize(d)? {
            ParamRepr::One(v) => Ok(Param::scalar(v)),
            ParamRepr::Many(v) if !v.is_empty() => Ok(Param::per_region(v)),
            ParamRepr::Many(_) => Err(serde::de::Error::custom("empty parameter array")),
        }
    }
}

/// Declares a model's parameter struct: fields of type [`Param`], TVB defaults,
/// serde support (missing fields take the default) and name-based access.
macro_rules! params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident = $default:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        #[allow(non_snake_case)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::param::Param, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $crate::param::Param::scalar($default), )* }
            }
        }

        impl $name {
            /// Parameter names in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Every parameter with its name.
            pub fn all(&self) -> Vec<(&'static str, &$crate::param::Param)> {
                vec![$((stringify!($field), &self.$field)),*]
            }

            /// Every parameter with its name, mutably.
            pub fn all_mut(&mut self) -> Vec<(&'static str, &mut $crate::param::Param)> {
                vec![$((stringify!($field), &mut self.$field)),*]
            }
        }
    };
}

pub(crate) use params;
