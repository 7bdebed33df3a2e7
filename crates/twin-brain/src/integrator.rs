//! Integration schemes: Euler, Heun and RK4, deterministic or with additive noise.
//!
//! Every scheme is written with TVB's operation order (`integrators.py`), so that
//! a step here rounds exactly like a step there:
//!
//! ```text
//! Heun (deterministic)   X~ = X + dt·(k1 + s);            X' = X + (k1 + f(X~))·dt/2 + dt·s
//! Heun (stochastic)      X~ = X + dt·k1 + η + dt·s;       X' = X + (k1 + f(X~))·dt/2 + η + dt·s
//! Euler (deterministic)  X' = X + dt·(k1 + s)
//! Euler (stochastic)     X' = X + k1·dt + η + dt·s
//! RK4 (deterministic)    classic four stages, X' = X + dt/6·(k1 + 2k2 + 2k3 + k4) + dt·s
//! ```
//!
//! `s` is the stimulus (zero without one), `η = sqrt(dt)·z·sqrt(2·nsig)` one
//! noise draw per step shared by both Heun stages. Bounds are applied to every
//! intermediate state and to the result. The coupling input is the same for all
//! stages (computed once per step by the simulator).

use serde::{Deserialize, Serialize};

use crate::{
    models::{Bound, NeuralMass},
    noise::NormalStream,
};

/// The integration scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    /// Forward Euler (Euler–Maruyama with noise).
    Euler,
    /// Heun predictor–corrector (TVB's default).
    Heun,
    /// Classic 4th-order Runge–Kutta (deterministic only, as in TVB).
    Rk4,
}

impl Scheme {
    /// TVB's class name for this scheme, deterministic or stochastic.
    pub fn tvb_name(self, stochastic: bool) -> &'static str {
        match (self, stochastic) {
            (Scheme::Euler, false) => "EulerDeterministic",
            (Scheme::Euler, true) => "EulerStochastic",
            (Scheme::Heun, false) => "HeunDeterministic",
            (Scheme::Heun, true) => "HeunStochastic",
            (Scheme::Rk4, _) => "RungeKutta4thOrderDeterministic",
        }
    }
}

/// Applies hard bounds in place (`x < lo → lo`, then `x > hi → hi`).
#[inline(always)]
pub(crate) fn apply_bounds(bounds: &[Bound], x: &mut [f64], n: usize) {
    for b in bounds {
        for v in &mut x[b.sv * n..(b.sv + 1) * n] {
            if let Some(lo) = b.lo {
                if *v < lo {
                    *v = lo;
                }
            }
            if let Some(hi) = b.hi {
                if *v > hi {
                    *v = hi;
                }
            }
        }
    }
}

/// Scratch space and noise state for stepping one simulation.
#[derive(Debug, Clone)]
pub(crate) struct Stepper {
    pub(crate) scheme: Scheme,
    pub(crate) dt: f64,
    /// `sqrt(2·nsig)` per (state variable, region), if stochastic.
    gfun: Option<Vec<f64>>,
    k1: Vec<f64>,
    k2: Vec<f64>,
    k3: Vec<f64>,
    k4: Vec<f64>,
    tmp: Vec<f64>,
    eta: Vec<f64>,
}

impl Stepper {
    pub(crate) fn new(scheme: Scheme, dt: f64, len: usize, gfun: Option<Vec<f64>>) -> Self {
        let z = || vec![0.0; len];
        Stepper {
            scheme,
            dt,
            gfun,
            k1: z(),
            k2: z(),
            k3: z(),
            k4: z(),
            tmp: z(),
            eta: z(),
        }
    }

    /// Advances `x` by one step. `stim` is the per-(state variable, region)
    /// stimulus or `None` (zero); `rng` must be given when the stepper is stochastic.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn step(
        &mut self,
        model: &dyn NeuralMass,
        x: &mut [f64],
        c: &[f64],
        stim: Option<&[f64]>,
        n: usize,
        bounds: &[Bound],
        rng: Option<&mut NormalStream>,
    ) {
        if let (Some(g), Some(rng)) = (&self.gfun, rng) {
            noise_dispatch(rng, &mut self.eta, g, self.dt.sqrt());
        }
        // Monomorphised for "no stimulus" so that the loops stay branch-free.
        match stim {
            None => step_dispatch(self, model, x, c, n, bounds, |_| 0.0),
            Some(s) => step_dispatch(self, model, x, c, n, bounds, |k| s[k]),
        }
    }

    #[inline(always)]
    fn step_with(
        &mut self,
        model: &dyn NeuralMass,
        x: &mut [f64],
        c: &[f64],
        n: usize,
        bounds: &[Bound],
        st: impl Fn(usize) -> f64,
    ) {
        let dt = self.dt;
        let len = x.len();
        let (k1, k2, k3, k4) = (
            &mut self.k1[..len],
            &mut self.k2[..len],
            &mut self.k3[..len],
            &mut self.k4[..len],
        );
        let (tmp, eta) = (&mut self.tmp[..len], &self.eta[..len]);
        match (self.scheme, self.gfun.is_some()) {
            (Scheme::Heun, false) => {
                model.dfun(x, c, n, k1);
                for k in 0..len {
                    tmp[k] = x[k] + dt * (k1[k] + st(k));
                }
                apply_bounds(bounds, tmp, n);
                model.dfun(tmp, c, n, k2);
                for k in 0..len {
                    let dx = (k1[k] + k2[k]) * dt / 2.0;
                    x[k] = x[k] + dx + dt * st(k);
                }
            }
            (Scheme::Heun, true) => {
                model.dfun(x, c, n, k1);
                for k in 0..len {
                    tmp[k] = x[k] + dt * k1[k] + eta[k] + dt * st(k);
                }
                apply_bounds(bounds, tmp, n);
                model.dfun(tmp, c, n, k2);
                for k in 0..len {
                    let dx = (k1[k] + k2[k]) * dt / 2.0;
                    x[k] = x[k] + dx + eta[k] + dt * st(k);
                }
            }
            (Scheme::Euler, false) => {
                model.dfun(x, c, n, k1);
                for k in 0..len {
                    x[k] += dt * (k1[k] + st(k));
                }
            }
            (Scheme::Euler, true) => {
                model.dfun(x, c, n, k1);
                for k in 0..len {
                    x[k] = x[k] + k1[k] * dt + eta[k] + dt * st(k);
                }
            }
            (Scheme::Rk4, _) => {
                let (dt2, dt6) = (dt / 2.0, dt / 6.0);
                model.dfun(x, c, n, k1);
                for k in 0..len {
                    tmp[k] = x[k] + dt2 * k1[k];
                }
                apply_bounds(bounds, tmp, n);
                model.dfun(tmp, c, n, k2);
                for k in 0..len {
                    tmp[k] = x[k] + dt2 * k2[k];
                }
                apply_bounds(bounds, tmp, n);
                model.dfun(tmp, c, n, k3);
                for k in 0..len {
                    tmp[k] = x[k] + dt * k3[k];
                }
                apply_bounds(bounds, tmp, n);
                model.dfun(tmp, c, n, k4);
                for k in 0..len {
                    let dx = dt6 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
                    x[k] = x[k] + dx + dt * st(k);
                }
            }
        }
        apply_bounds(bounds, x, n);
    }
}

crate::simd::kernel! {
    /// [`Stepper::step_with`], compiled per CPU feature set ([`crate::simd`]);
    /// the model's `dfun` dispatches on its own.
    fn step_dispatch<S: Fn(usize) -> f64>(
        st: &mut Stepper,
        model: &dyn NeuralMass,
        x: &mut [f64],
        c: &[f64],
        n: usize,
        bounds: &[Bound],
        stim: S,
    ) {
        st.step_with(model, x, c, n, bounds, stim)
    }
}

crate::simd::kernel! {
    /// [`NormalStream::fill`], compiled per CPU feature set ([`crate::simd`]).
    fn noise_dispatch(rng: &mut NormalStream, eta: &mut [f64], g: &[f64], scale: f64) {
        rng.fill(eta, g, scale)
    }
}
