//! The VEP network model: one two-dimensional Epileptor per region, coupled
//! through the normalised connectome by permittivity (slow-variable) coupling,
//! discretised with the explicit Euler scheme (Euler–Maruyama with noise).
//!
//! # Equations (t in s)
//!
//! ```text
//! dx_i/dt = tt · (I1 + 1 − x_i³ − 2 x_i² − z_i + u_i(t))
//! dz_i/dt = (tt / τ0) · (4 (x_i − x0_i) − z_i − K Σ_j C_ij (x_j − x_i))
//! ```
//!
//! `x` is the fast (seizure) variable, `z` the slow permittivity variable, `x0`
//! the excitability of each region (epileptogenic above the bifurcation value
//! ≈ −2.05, [`X0_CRITICAL`]), `K` the global coupling, `C` the structural
//! weights normalised to a maximum of 1, `u` an optional stimulus current.
//! This is the BVEP form of Epileptor2D (Proix et al. 2014; Jirsa et al. 2017;
//! Hashemi et al. 2020): TVB's `Epileptor2D` with `Ks = −K`, `r = 1/τ0`,
//! `Iext = 3.1`, `tt` and time in seconds, and the cubic `1 − x³ − 2x²` kept on
//! both branches (TVB switches to `−0.6 (z − 4)²`-terms for `x ≥ 0`), which
//! makes the right-hand side smooth and its gradient exact everywhere.
//!
//! One Euler step of size `dt`:
//!
//! ```text
//! x' = x + dt·tt·(I1 + 1 − x³ − 2x² − z + u)            (+ σx √dt ξ)
//! z' = z + dt·tt/τ0·(4 (x − x0) − z − K (C x − d ∘ x))    (+ σz √dt ξ)
//! ```
//!
//! with `d_i = Σ_j C_ij`. The fit differentiates exactly this recursion (see
//! [`crate::objective`]), so the likelihood and its gradient belong to the
//! same discrete model.
//!
//! # References
//!
//! * Proix T. et al. (2014) J Neurosci 34: 15009–15021.
//! * Jirsa V. K. et al. (2017) NeuroImage 145: 377–388.
//! * Hashemi M. et al. (2020) NeuroImage 217: 116839.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Excitability above which an isolated region seizes on its own.
pub const X0_CRITICAL: f64 = -2.05;

/// Parameters of the VEP network model shared by simulation and inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelParams {
    /// Input current I1 (3.1).
    pub i1: f64,
    /// Time-scale ratio τ0 between the fast and the slow variable.
    pub tau0: f64,
    /// Overall rate tt \[1/s\].
    pub tt_per_s: f64,
    /// Integration step \[s\].
    pub dt_s: f64,
    /// Initial fast variable (interictal state).
    pub x_init: f64,
    /// Initial slow variable.
    pub z_init: f64,
    /// Threshold on `x` above which a region counts as seizing.
    pub x_seizure: f64,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            i1: 3.1,
            tau0: 20.0,
            tt_per_s: 1.0,
            dt_s: 0.05,
            x_init: -1.9,
            z_init: 3.6,
            x_seizure: -0.5,
        }
    }
}

/// A row-normalised structural network: `C` row-major (row = target) and `d = C·1`.
///
/// The products with `C` and `Cᵀ` run over its non-zero entries (kept in
/// compressed rows next to the dense matrix): tvb-data's 192-region
/// connectome has 10 % non-zeros, so the fit's simulations and adjoints,
/// dominated by these products, run several times faster.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Number of regions.
    pub n: usize,
    /// Weights, rows summing to 1, diagonal zero.
    pub c: Vec<f64>,
    /// Row sums of `c`.
    pub deg: Vec<f64>,
    /// Compressed rows of `c`: row `i` is `col[start[i]..start[i+1]]`, `val[…]`.
    start: Vec<usize>,
    col: Vec<usize>,
    val: Vec<f64>,
}

impl Network {
    /// Zeroes the diagonal of `weights` (`n × n`, row = target) and scales every
    /// row to a sum of 1 (rows without input stay zero).
    pub fn new(n: usize, weights: &[f64]) -> Self {
        let mut c = weights.to_vec();
        for i in 0..n {
            c[i * n + i] = 0.0;
            let s: f64 = c[i * n..(i + 1) * n].iter().sum();
            if s > 0.0 {
                c[i * n..(i + 1) * n].iter_mut().for_each(|v| *v /= s);
            }
        }
        let deg = (0..n).map(|i| c[i * n..(i + 1) * n].iter().sum()).collect();
        let mut net = Network {
            n,
            c,
            deg,
            start: vec![],
            col: vec![],
            val: vec![],
        };
        net.compress();
        net
    }

    /// Rebuilds `deg` and the compressed rows from `c`.
    fn compress(&mut self) {
        let n = self.n;
        self.deg = (0..n)
            .map(|i| self.c[i * n..(i + 1) * n].iter().sum())
            .collect();
        self.start = Vec::with_capacity(n + 1);
        self.col.clear();
        self.val.clear();
        self.start.push(0);
        for i in 0..n {
            for j in 0..n {
                let v = self.c[i * n + j];
                if v != 0.0 {
                    self.col.push(j);
                    self.val.push(v);
                }
            }
            self.start.push(self.col.len());
        }
    }

    /// `out += Cᵀ l`.
    pub fn add_transpose_times(&self, l: &[f64], out: &mut [f64]) {
        for (j, &lj) in l.iter().enumerate() {
            if lj != 0.0 {
                let r = self.start[j]..self.start[j + 1];
                for (&i, &v) in self.col[r.clone()].iter().zip(&self.val[r]) {
                    out[i] += v * lj;
                }
            }
        }
    }

    /// The network with `regions` removed (all their connections cut).
    pub fn without(&self, regions: &[usize]) -> Self {
        let mut net = self.clone();
        for &r in regions {
            for j in 0..self.n {
                net.c[r * self.n + j] = 0.0;
                net.c[j * self.n + r] = 0.0;
            }
        }
        net.compress();
        net
    }

    /// The network with the given connections `(to, from)` cut in both directions.
    pub fn cut(&self, edges: &[(usize, usize)]) -> Self {
        let mut net = self.clone();
        for &(a, b) in edges {
            net.c[a * self.n + b] = 0.0;
            net.c[b * self.n + a] = 0.0;
        }
        net.compress();
        net
    }

    /// `out = C x − d ∘ x`, the diffusive coupling input.
    pub fn coupling(&self, x: &[f64], out: &mut [f64]) {
        for i in 0..self.n {
            let r = self.start[i]..self.start[i + 1];
            let s: f64 = self.col[r.clone()]
                .iter()
                .zip(&self.val[r])
                .map(|(&j, v)| v * x[j])
                .sum();
            out[i] = s - self.deg[i] * x[i];
        }
    }
}

/// A stimulus current added to `dx/dt`: a pulse train on target regions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stimulus {
    /// Target regions.
    pub targets: Vec<usize>,
    /// Amplitude (model units); negative values hyperpolarise.
    pub amplitude: f64,
    /// Pulse frequency \[Hz\]; 0 means a constant current.
    pub frequency_hz: f64,
    /// Pulse width \[s\] (ignored for a constant current).
    pub pulse_width_s: f64,
    /// Start \[s\].
    pub start_s: f64,
    /// Stop \[s\].
    pub stop_s: f64,
}

impl Stimulus {
    /// The mean current over the step `[t, t + dt)`, from 32 sub-samples, so
    /// pulse trains faster than the integration step keep their charge
    /// (a 50 Hz train of 10 ms pulses over a 40 ms step gives half the amplitude).
    pub fn step_current(&self, t: f64, dt: f64) -> f64 {
        const SUB: usize = 32;
        (0..SUB)
            .map(|j| self.current(t + (j as f64 + 0.5) * dt / SUB as f64))
            .sum::<f64>()
            / SUB as f64
    }

    /// The current at time `t` \[s\] (same for every target).
    pub fn current(&self, t: f64) -> f64 {
        if t < self.start_s || t >= self.stop_s {
            return 0.0;
        }
        if self.frequency_hz <= 0.0 {
            return self.amplitude;
        }
        let phase = ((t - self.start_s) * self.frequency_hz).fract() / self.frequency_hz;
        if phase < self.pulse_width_s {
            self.amplitude
        } else {
            0.0
        }
    }
}

/// Process noise of a stochastic simulation (Euler–Maruyama).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProcessNoise {
    /// Standard deviation per √s on `x`.
    pub sigma_x: f64,
    /// Standard deviation per √s on `z`.
    pub sigma_z: f64,
}

/// A simulated trajectory: `x` and `z`, `(steps + 1) × n` row-major (row = time).
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Regions.
    pub n: usize,
    /// Integration step \[s\].
    pub dt_s: f64,
    /// Fast variable per time step.
    pub x: Vec<f64>,
    /// Slow variable per time step.
    pub z: Vec<f64>,
}

impl Trajectory {
    /// Number of stored time points (steps + 1).
    pub fn len(&self) -> usize {
        self.x.len() / self.n.max(1)
    }

    /// Whether nothing was simulated.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// `x` of all regions at time index `t`.
    pub fn x_at(&self, t: usize) -> &[f64] {
        &self.x[t * self.n..(t + 1) * self.n]
    }

    /// Per region, the first time \[s\] when `x` exceeds `threshold`, if any.
    pub fn onsets(&self, threshold: f64) -> Vec<Option<f64>> {
        (0..self.n)
            .map(|i| {
                (0..self.len())
                    .find(|&t| self.x[t * self.n + i] > threshold)
                    .map(|t| t as f64 * self.dt_s)
            })
            .collect()
    }
}

/// Simulates `steps` Euler steps from the model's initial state.
///
/// `x0` per region, coupling `k`; optional stimulus and process noise (with its
/// random source). Deterministic without noise.
pub fn simulate(
    p: &ModelParams,
    net: &Network,
    x0: &[f64],
    k: f64,
    steps: usize,
    stim: Option<&Stimulus>,
    noise: Option<(ProcessNoise, &mut Rng)>,
) -> Trajectory {
    let n = net.n;
    let mut x = vec![0.0; (steps + 1) * n];
    let mut z = vec![0.0; (steps + 1) * n];
    x[..n].fill(p.x_init);
    z[..n].fill(p.z_init);
    let (a, b) = (p.dt_s * p.tt_per_s, p.dt_s * p.tt_per_s / p.tau0);
    let mut cpl = vec![0.0; n];
    let mut noise = noise;
    let sq = p.dt_s.sqrt();
    for t in 0..steps {
        let (xs, xn) = x.split_at_mut((t + 1) * n);
        let (zs, zn) = z.split_at_mut((t + 1) * n);
        let (xc, zc) = (&xs[t * n..], &zs[t * n..]);
        net.coupling(xc, &mut cpl);
        let u_now = stim
            .map(|s| s.step_current(t as f64 * p.dt_s, p.dt_s))
            .unwrap_or(0.0);
        for i in 0..n {
            let xi = xc[i];
            let mut u = 0.0;
            if let Some(s) = stim {
                if s.targets.contains(&i) {
                    u = u_now;
                }
            }
            let fx = p.i1 + 1.0 - xi * xi * xi - 2.0 * xi * xi - zc[i] + u;
            let fz = 4.0 * (xi - x0[i]) - zc[i] - k * cpl[i];
            xn[i] = xi + a * fx;
            zn[i] = zc[i] + b * fz;
        }
        if let Some((pn, rng)) = noise.as_mut() {
            for i in 0..n {
                xn[i] += pn.sigma_x * sq * rng.normal();
                zn[i] += pn.sigma_z * sq * rng.normal();
            }
        }
    }
    Trajectory {
        n,
        dt_s: p.dt_s,
        x,
        z,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Network {
        Network::new(2, &[0.0, 1.0, 1.0, 0.0])
    }

    #[test]
    fn isolated_regions_seize_only_above_the_critical_excitability() {
        let p = ModelParams::default();
        let net = Network::new(2, &[0.0; 4]);
        let tr = simulate(&p, &net, &[-1.6, -2.4], 0.0, 2000, None, None);
        let on = tr.onsets(p.x_seizure);
        assert!(on[0].is_some(), "EZ region must seize");
        assert!(on[1].is_none(), "healthy region must stay interictal");
    }

    #[test]
    fn coupling_recruits_a_propagation_zone_and_resection_stops_it() {
        let p = ModelParams::default();
        let net = pair();
        let tr = simulate(&p, &net, &[-1.6, -2.15], 1.0, 2000, None, None);
        let on = tr.onsets(p.x_seizure);
        assert!(on[0].is_some() && on[1].is_some(), "{on:?}");
        assert!(on[1] > on[0]);
        let cut = net.without(&[0]);
        let tr = simulate(&p, &cut, &[-1.6, -2.15], 1.0, 2000, None, None);
        assert!(tr.onsets(p.x_seizure)[1].is_none());
    }

    #[test]
    fn stimulus_pulses_follow_frequency_and_width() {
        let s = Stimulus {
            targets: vec![0],
            amplitude: 2.0,
            frequency_hz: 10.0,
            pulse_width_s: 0.02,
            start_s: 1.0,
            stop_s: 2.0,
        };
        assert_eq!(s.current(0.5), 0.0);
        assert_eq!(s.current(1.01), 2.0);
        assert_eq!(s.current(1.05), 0.0);
        assert_eq!(s.current(1.11), 2.0);
        assert_eq!(s.current(2.5), 0.0);
        let fast = Stimulus {
            frequency_hz: 50.0,
            pulse_width_s: 0.01,
            ..s
        };
        assert!((fast.step_current(1.2, 0.04) - 1.0).abs() < 1e-12);
    }
}
