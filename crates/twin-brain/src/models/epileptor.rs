//! Epileptor, the six-dimensional seizure model (Jirsa et al. 2014; TVB's `Epileptor`).
//!
//! Two oscillatory subsystems with a slow permittivity variable `z`: population 1
//! (`x1`, `y1`, fast discharges), population 2 (`x2`, `y2`, spike-wave events),
//! coupled through a low-pass filter `g` of `x1`. Seizures start and stop as `z`
//! drifts across bifurcations; the excitability `x0` decides whether a region is
//! epileptogenic (`x0 > −2.05` roughly) or healthy.
//!
//! # Equations (t in ms)
//!
//! ```text
//! dx1/dt = tt · (y1 − z + Iext + Kvf·c1 + f1(x1, x2, z) · x1)
//!     f1 = −a x1² + b x1               if x1 < 0
//!        = slope − x2 + 0.6 (z − 4)²   otherwise
//! dy1/dt = tt · (c − d x1² − y1)
//! dz/dt  = tt · r · (h − z + Ks·c1)
//!     h  = 4 (x1 − x0) + [−0.1 z⁷ if z < 0]           (modification = false)
//!     h  = x0 + 3 / (1 + exp(−(x1 + 0.5) / 0.1))      (modification = true)
//! dx2/dt = tt · (−y2 + x2 − x2³ + Iext2 + bb·g − 0.3 (z − 3.5) + Kf·c2)
//! dy2/dt = tt · (−y2 + f2(x2)) / τ,   f2 = 0 if x2 < −0.25 else aa (x2 + 0.25)
//! dg/dt  = tt · (−0.01 (g − 0.1 x1))
//! ```
//!
//! Coupling variables are `x1` (→ `c1`) and `x2` (→ `c2`); with Difference
//! coupling and `Ks < 0` the `z` equation carries the diffusive term of Proix
//! et al. (2014). Powers are computed as TVB's Numba kernel does.
//! Derived observable: `"x2 - x1"` (TVB's default VOI is `x2 - x1`, `z`).
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `a`, `b`, `c`, `d` | 1, 3, 1, 5 | population-1 polynomial coefficients |
//! | `r` | 0.00035 | time-scale separation of `z` \[1/ms\] |
//! | `s` | 4 | slope of the `z` nullcline (kept for TVB compatibility) |
//! | `x0` | −1.6 | excitability (epileptogenicity) |
//! | `Iext` | 3.1 | external input to population 1 |
//! | `slope` | 0 | linear coefficient of `f1` |
//! | `Iext2` | 0.45 | external input to population 2 |
//! | `tau` | 10 | time constant of population 2 |
//! | `aa`, `bb` | 6, 2 | population-2 coefficients |
//! | `Kvf`, `Kf`, `Ks` | 0, 0, 0 | coupling gains (fast x1, x2, slow z) |
//! | `tt` | 1 | overall time scaling |
//!
//! State ranges: x1 [−2, 1], y1 [−20, 2], z [2, 5], x2 [−2, 0], y2 [0, 2], g [−1, 1].
//!
//! # References
//!
//! * Jirsa V. K., Stacey W. C., Quilichini P. P., Ivanov A. I., Bernard C.
//!   (2014). On the nature of seizure dynamics. *Brain* 137: 2210–2230.
//! * Proix T., Bartolomei F., Chauvel P., Bernard C., Jirsa V. K. (2014).
//!   Permittivity coupling across brain regions determines seizure recruitment
//!   in partial epilepsy. *J Neurosci* 34: 15009–15021.

use super::{impl_params, ipow, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`Epileptor`] (see the module table).
    pub struct EpileptorParams {
        /// Population-1 coefficient a.
        a = 1.0,
        /// Population-1 coefficient b.
        b = 3.0,
        /// Population-1 coefficient c.
        c = 1.0,
        /// Population-1 coefficient d.
        d = 5.0,
        /// Slow time scale r \[1/ms\].
        r = 0.00035,
        /// z-nullcline slope s.
        s = 4.0,
        /// Excitability x0.
        x0 = -1.6,
        /// External input to population 1.
        Iext = 3.1,
        /// Linear coefficient of f1.
        slope = 0.0,
        /// External input to population 2.
        Iext2 = 0.45,
        /// Time constant of population 2.
        tau = 10.0,
        /// Population-2 coefficient aa.
        aa = 6.0,
        /// Population-2 coefficient bb.
        bb = 2.0,
        /// Fast coupling gain on x1.
        Kvf = 0.0,
        /// Coupling gain on x2.
        Kf = 0.0,
        /// Slow (permittivity) coupling gain on z.
        Ks = 0.0,
        /// Time scaling.
        tt = 1.0,
    }
}

impl EpileptorParams {
    /// TVB's "Exploring the Epileptor" network preset: Ks = −0.2, Kf = 0.1, r = 0.00015.
    pub fn tvb_demo_network() -> Self {
        EpileptorParams {
            Ks: (-0.2).into(),
            Kf: 0.1.into(),
            r: 0.00015.into(),
            ..Self::default()
        }
    }
}

/// The 6D Epileptor; state `(x1, y1, z, x2, y2, g)`, coupling variables `x1`, `x2`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Epileptor {
    /// Parameters.
    pub p: EpileptorParams,
    /// Use the sigmoidal `h` of the modified Epileptor.
    pub modification: bool,
}

impl NeuralMass for Epileptor {
    fn name(&self) -> &'static str {
        "Epileptor"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["x1", "y1", "z", "x2", "y2", "g"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0, 3]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[
            (-2.0, 1.0),
            (-20.0, 2.0),
            (2.0, 5.0),
            (-2.0, 0.0),
            (0.0, 2.0),
            (-1.0, 1.0),
        ]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["x2 - x1", "z"]
    }
    fn derived_observables(&self) -> &'static [&'static str] {
        &["x2 - x1"]
    }
    fn observe_derived(&self, _k: usize, x: &[f64], n: usize, out: &mut [f64]) {
        for i in 0..n {
            out[i] = x[3 * n + i] - x[i];
        }
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for Epileptor {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        // The common case: every parameter but x0 is one value for all regions,
        // held in a register instead of streamed from a broadcast array.
        let p = &self.p;
        let uniform = [
            &p.a, &p.b, &p.c, &p.d, &p.r, &p.Iext, &p.slope, &p.Iext2, &p.tau, &p.aa, &p.bb,
            &p.Kvf, &p.Kf, &p.Ks, &p.tt,
        ]
        .iter()
        .all(|v| v.values().len() == 1);
        match (self.modification, uniform) {
            (true, true) => self.kernel::<true, true>(x, c, n, dx),
            (true, false) => self.kernel::<true, false>(x, c, n, dx),
            (false, true) => self.kernel::<false, true>(x, c, n, dx),
            (false, false) => self.kernel::<false, false>(x, c, n, dx),
        }
    }
}

impl Epileptor {
    /// The right-hand side, monomorphised on `modification` so that the common
    /// case is a loop without calls (and vectorises), and on `UNIFORM`: every
    /// parameter but `x0` read once (the same values as the broadcast slices).
    #[inline(always)]
    fn kernel<const MODIFIED: bool, const UNIFORM: bool>(
        &self,
        x: &[f64],
        c: &[f64],
        n: usize,
        dx: &mut [f64],
    ) {
        #[inline(always)]
        fn at<const U: bool>(s: &[f64], i: usize) -> f64 {
            if U {
                s[0]
            } else {
                s[i]
            }
        }
        let p = &self.p;
        // Slices of exactly n elements let the compiler drop bounds checks and vectorise.
        let (a, b, cc, d, r) = (
            p.a.slice(n),
            p.b.slice(n),
            p.c.slice(n),
            p.d.slice(n),
            p.r.slice(n),
        );
        let (x0, iext, slope, iext2, tau) = (
            p.x0.slice(n),
            p.Iext.slice(n),
            p.slope.slice(n),
            p.Iext2.slice(n),
            p.tau.slice(n),
        );
        let (aa, bb, kvf, kf, ks, tt) = (
            p.aa.slice(n),
            p.bb.slice(n),
            p.Kvf.slice(n),
            p.Kf.slice(n),
            p.Ks.slice(n),
            p.tt.slice(n),
        );
        let (xa, xb) = x[..6 * n].split_at(3 * n);
        let (x1s, rest) = xa.split_at(n);
        let (y1s, zs) = rest.split_at(n);
        let (x2s, rest) = xb.split_at(n);
        let (y2s, gs) = rest.split_at(n);
        let (c1s, c2s) = (&c[..n], &c[n..2 * n]);
        let (da, db) = dx[..6 * n].split_at_mut(3 * n);
        let (dx1, rest) = da.split_at_mut(n);
        let (dy1, dz) = rest.split_at_mut(n);
        let (dx2, rest) = db.split_at_mut(n);
        let (dy2, dg) = rest.split_at_mut(n);
        // Both sides of every branch are computed and one is selected, so the loop
        // has no data-dependent jumps (same values as TVB's if/else).
        for i in 0..n {
            let (x1, y1, z) = (x1s[i], y1s[i], zs[i]);
            let (x2, y2, g) = (x2s[i], y2s[i], gs[i]);
            let (c1, c2) = (c1s[i], c2s[i]);
            let u = |s: &[f64]| at::<UNIFORM>(s, i);
            let (a, b, cc, d, r) = (u(a), u(b), u(cc), u(d), u(r));
            let (iext, slope, iext2, tau) = (u(iext), u(slope), u(iext2), u(tau));
            let (aa, bb, kvf, kf, ks, tt) = (u(aa), u(bb), u(kvf), u(kf), u(ks), u(tt));
            let x1sq = ipow(x1, 2);
            let f1_neg = -a * x1sq + b * x1;
            let f1_pos = slope - x2 + 0.6 * ipow(z - 4.0, 2);
            let f1 = if x1 < 0.0 { f1_neg } else { f1_pos };
            dx1[i] = tt * (y1 - z + iext + kvf * c1 + f1 * x1);
            dy1[i] = tt * (cc - d * x1sq - y1);
            let z7 = -0.1 * ipow(z, 7);
            let zz = if z < 0.0 { z7 } else { 0.0 };
            let h = if MODIFIED {
                x0[i] + 3.0 / (1.0 + (-(x1 + 0.5) / 0.1).exp())
            } else {
                4.0 * (x1 - x0[i]) + zz
            };
            dz[i] = tt * (r * (h - z + ks * c1));
            dx2[i] = tt * (-y2 + x2 - ipow(x2, 3) + iext2 + bb * g - 0.3 * (z - 3.5) + kf * c2);
            let f2_pos = aa * (x2 + 0.25);
            let f2 = if x2 < -0.25 { 0.0 } else { f2_pos };
            dy2[i] = tt * ((-y2 + f2) / tau);
            dg[i] = tt * (-0.01 * (g - 0.1 * x1));
        }
    }
}
