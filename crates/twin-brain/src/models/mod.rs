//! Neural mass models, one per file.
//!
//! Every model implements [`NeuralMass`]: it names its state variables, says
//! which of them couple to other regions (`cvar`), gives TVB's initial-condition
//! ranges and hard boundaries, and evaluates its right-hand side for all regions
//! at once.
//!
//! # Layout of state and coupling arrays
//!
//! States are *structure of arrays*: `x[sv * n + i]` is state variable `sv` of
//! region `i`; derivatives use the same layout. Coupling inputs are
//! `c[k * n + i]`, one row per coupling term (normally one per `cvar`).
//!
//! # Parity with TVB
//!
//! Each `dfun` evaluates its expressions in the same order and with the same
//! operations as TVB 2.10's implementation (NumPy or Numba), with no fused
//! multiply-add, so that results are bit-identical where TVB's inputs are.

mod epileptor;
mod epileptor_2d;
mod generic_2d_oscillator;
mod jansen_rit;
mod kuramoto;
mod larter_breakspear;
mod montbrio_pazo_roxin;
mod reduced_wong_wang;
mod wilson_cowan;

pub use epileptor::{Epileptor, EpileptorParams};
pub use epileptor_2d::{Epileptor2D, Epileptor2DParams};
pub use generic_2d_oscillator::{Generic2dOscillator, Generic2dOscillatorParams};
pub use jansen_rit::{JansenRit, JansenRitParams};
pub use kuramoto::{Kuramoto, KuramotoParams};
pub use larter_breakspear::{LarterBreakspear, LarterBreakspearParams};
pub use montbrio_pazo_roxin::{MontbrioPazoRoxin, MontbrioPazoRoxinParams};
pub use reduced_wong_wang::{ReducedWongWang, ReducedWongWangParams};
pub use wilson_cowan::{WilsonCowan, WilsonCowanParams};

use crate::{error::BrainError, param::Param};

/// A hard bound on a state variable, applied after every integration stage
/// (TVB's `state_variable_boundaries`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// Index of the state variable.
    pub sv: usize,
    /// Lower bound, if any.
    pub lo: Option<f64>,
    /// Upper bound, if any.
    pub hi: Option<f64>,
}

/// A neural mass model: local dynamics of one region, evaluated for all regions.
pub trait NeuralMass: std::fmt::Debug + Send + Sync {
    /// TVB's class name (`"Generic2dOscillator"`, …).
    fn name(&self) -> &'static str;

    /// State variable names, in state order.
    fn state_variables(&self) -> &'static [&'static str];

    /// Indices of the coupling variables (those stored in the delay history).
    fn cvar(&self) -> &'static [usize];

    /// Range `(lo, hi)` of each state variable, used for random initial conditions.
    fn state_variable_range(&self) -> &'static [(f64, f64)];

    /// Hard bounds applied after each integration stage.
    fn boundaries(&self) -> &'static [Bound] {
        &[]
    }

    /// Default variables of interest (names of state variables or derived observables).
    fn default_voi(&self) -> &'static [&'static str];

    /// Names of derived observables (e.g. Epileptor's `"x2 - x1"`).
    fn derived_observables(&self) -> &'static [&'static str] {
        &[]
    }

    /// Evaluates derived observable `k` for all `n` regions into `out`.
    fn observe_derived(&self, k: usize, x: &[f64], n: usize, out: &mut [f64]) {
        let _ = (k, x, n);
        out.fill(f64::NAN);
    }

    /// The parameters with their names.
    fn params(&self) -> Vec<(&'static str, &Param)>;

    /// The parameters with their names, mutably.
    fn params_mut(&mut self) -> Vec<(&'static str, &mut Param)>;

    /// Broadcasts every parameter to `n` regions; fails on a wrong length.
    fn prepare(&mut self, n: usize) -> Result<(), BrainError> {
        for (name, p) in self.params_mut() {
            p.prepare(name, n)?;
        }
        Ok(())
    }

    /// Right-hand side: `dx = f(x, c)` for `n` regions (layouts in the module docs).
    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]);

    /// How many of the last coupling terms [`dfun`](Self::dfun) multiplies by
    /// a gain that is exactly zero in every region, with the current
    /// parameters (MontbrioPazoRoxin's `cv` at its default). For the
    /// per-variable couplings (Linear, Scaling, Difference) the simulator then
    /// neither stores those variables in the delay history nor computes
    /// their coupling: the term is passed as `+0`, so `gain · c` is `+0`
    /// where TVB has `±0` — the same sum unless every other addend is `−0`.
    fn unused_coupling_terms(&self) -> usize {
        0
    }
}

/// A model's right-hand side, inlined into [`dispatch`]'s CPU-specific clones
/// (see [`crate::simd`]); [`NeuralMass::dfun`] calls it through [`dispatch`].
pub(crate) trait Rhs {
    /// `dx = f(x, c)`, as [`NeuralMass::dfun`].
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]);
}

crate::simd::kernel! {
    /// Runs `m.rhs` in the widest SIMD clone the CPU supports.
    pub(crate) fn dispatch<M: Rhs>(m: &M, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        m.rhs(x, c, n, dx)
    }
}

/// Sets a parameter by name (for configuration files and sweeps).
pub fn set_param(
    model: &mut dyn NeuralMass,
    name: &str,
    values: Vec<f64>,
) -> Result<(), BrainError> {
    let owner = model.name();
    let mut params = model.params_mut();
    let known = params
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ");
    match params.iter_mut().find(|(k, _)| *k == name) {
        Some((_, p)) => {
            p.set(values);
            Ok(())
        }
        None => Err(BrainError::UnknownParam {
            name: name.to_string(),
            owner,
            known,
        }),
    }
}

/// Builds a model with TVB defaults from its TVB class name.
pub fn model_by_name(name: &str) -> Option<Box<dyn NeuralMass>> {
    Some(match name {
        "Generic2dOscillator" => Box::new(Generic2dOscillator::default()),
        "Epileptor" => Box::new(Epileptor::default()),
        "Epileptor2D" => Box::new(Epileptor2D::default()),
        "JansenRit" => Box::new(JansenRit::default()),
        "ReducedWongWang" => Box::new(ReducedWongWang::default()),
        "MontbrioPazoRoxin" => Box::new(MontbrioPazoRoxin::default()),
        "Kuramoto" => Box::new(Kuramoto::default()),
        "WilsonCowan" => Box::new(WilsonCowan::default()),
        "LarterBreakspear" => Box::new(LarterBreakspear::default()),
        _ => return None,
    })
}

/// The TVB class names of every model this crate implements.
pub const MODEL_NAMES: &[&str] = &[
    "Generic2dOscillator",
    "Epileptor",
    "Epileptor2D",
    "JansenRit",
    "ReducedWongWang",
    "MontbrioPazoRoxin",
    "Kuramoto",
    "WilsonCowan",
    "LarterBreakspear",
];

/// `x ** k` as Numba compiles it for a literal integer `k`: exponentiation by
/// squaring (`x**2 = x·x`, `x**3 = x·(x·x)`, `x**7 = (x·x²)·(x²·x²)`).
#[inline]
pub(crate) fn ipow(mut a: f64, mut k: u32) -> f64 {
    let mut r = 1.0;
    while k != 0 {
        if k & 1 == 1 {
            r *= a;
        }
        k >>= 1;
        a *= a;
    }
    r
}

/// Implements the parameter plumbing of [`NeuralMass`] for a model whose
/// parameters live in `self.p`.
macro_rules! impl_params {
    () => {
        fn params(&self) -> Vec<(&'static str, &$crate::param::Param)> {
            self.p.all()
        }
        fn params_mut(&mut self) -> Vec<(&'static str, &mut $crate::param::Param)> {
            self.p.all_mut()
        }
    };
}
pub(crate) use impl_params;

#[cfg(test)]
mod tests;
