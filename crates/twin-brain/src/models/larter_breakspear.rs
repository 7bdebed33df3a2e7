//! Larter–Breakspear conductance-based neural mass (Larter et al. 1999,
//! Breakspear et al. 2003; TVB's `LarterBreakspear`).
//!
//! Mean membrane potential `V` of pyramidal cells, fraction of open potassium
//! channels `W`, and inhibitory interneuron potential `Z`; chaotic oscillations
//! for the defaults.
//!
//! # Equations (t in ms, scaled by `t_scale`)
//!
//! ```text
//! m_ion = 0.5 (1 + tanh((V − T_ion) / δ_ion))            ion ∈ {Ca, Na, K}
//! Q_V   = 0.5 QV_max (1 + tanh((V − VT) / δ_V))
//! Q_Z   = 0.5 QZ_max (1 + tanh((Z − ZT) / δ_Z))
//! dV/dt = t_scale · ( −(gCa + (1 − C) rNMDA aee Q_V + C rNMDA aee c) m_Ca (V − VCa)
//!                     − gK W (V − VK) − gL (V − VL)
//!                     − (gNa m_Na + (1 − C) aee Q_V + C aee c) (V − VNa)
//!                     − aie Z Q_Z + ane Iext )
//! dW/dt = t_scale · φ (m_K − W) / τ_K
//! dZ/dt = t_scale · b (ani Iext + aei V Q_V)
//! ```
//!
//! `c` is the long-range coupling of `V` (the only coupling variable); `C`
//! weighs long-range against local excitation.
//!
//! # Parameters (TVB defaults)
//!
//! | name | default | name | default | name | default |
//! |---|---|---|---|---|---|
//! | `gCa` | 1.1 | `gK` | 2.0 | `gL` | 0.5 |
//! | `phi` | 0.7 | `gNa` | 6.7 | `TK` | 0.0 |
//! | `TCa` | −0.01 | `TNa` | 0.3 | `VCa` | 1.0 |
//! | `VK` | −0.7 | `VL` | −0.5 | `VNa` | 0.53 |
//! | `d_K` | 0.3 | `tau_K` | 1.0 | `d_Na` | 0.15 |
//! | `d_Ca` | 0.15 | `aei` | 2.0 | `aie` | 2.0 |
//! | `b` | 0.1 | `C` | 0.1 | `ane` | 1.0 |
//! | `ani` | 0.4 | `aee` | 0.4 | `Iext` | 0.3 |
//! | `rNMDA` | 0.25 | `VT` | 0.0 | `d_V` | 0.65 |
//! | `ZT` | 0.0 | `d_Z` | 0.7 | `QV_max` | 1.0 |
//! | `QZ_max` | 1.0 | `t_scale` | 1.0 | | |
//!
//! State ranges: V, W, Z ∈ [−1.5, 1.5].
//!
//! # References
//!
//! * Larter R., Speelman B., Worth R. M. (1999). A coupled ordinary differential
//!   equation lattice model for the simulation of epileptic seizures. *Chaos* 9: 795.
//! * Breakspear M., Terry J. R., Friston K. J. (2003). Modulation of excitatory
//!   synaptic coupling facilitates synchronization and complex dynamics in a
//!   biophysical model of neuronal dynamics. *Network: Comput Neural Syst* 14: 703–732.

use super::{impl_params, NeuralMass};
use crate::param::params;

params! {
    /// Parameters of [`LarterBreakspear`] (see the module table).
    pub struct LarterBreakspearParams {
        /// Calcium conductance.
        gCa = 1.1,
        /// Potassium conductance.
        gK = 2.0,
        /// Leak conductance.
        gL = 0.5,
        /// Temperature scaling φ.
        phi = 0.7,
        /// Sodium conductance.
        gNa = 6.7,
        /// Potassium threshold.
        TK = 0.0,
        /// Calcium threshold.
        TCa = -0.01,
        /// Sodium threshold.
        TNa = 0.3,
        /// Calcium Nernst potential.
        VCa = 1.0,
        /// Potassium Nernst potential.
        VK = -0.7,
        /// Leak Nernst potential.
        VL = -0.5,
        /// Sodium Nernst potential.
        VNa = 0.53,
        /// Potassium threshold variance.
        d_K = 0.3,
        /// Potassium relaxation time.
        tau_K = 1.0,
        /// Sodium threshold variance.
        d_Na = 0.15,
        /// Calcium threshold variance.
        d_Ca = 0.15,
        /// Excitatory → inhibitory synaptic strength.
        aei = 2.0,
        /// Inhibitory → excitatory synaptic strength.
        aie = 2.0,
        /// Time constant scaling b.
        b = 0.1,
        /// Long-range vs local excitation weight C.
        C = 0.1,
        /// Non-specific → excitatory strength.
        ane = 1.0,
        /// Non-specific → inhibitory strength.
        ani = 0.4,
        /// Excitatory → excitatory strength.
        aee = 0.4,
        /// Subcortical input.
        Iext = 0.3,
        /// NMDA/AMPA receptor ratio.
        rNMDA = 0.25,
        /// Pyramidal firing threshold.
        VT = 0.0,
        /// Pyramidal threshold variance.
        d_V = 0.65,
        /// Inhibitory firing threshold.
        ZT = 0.0,
        /// Inhibitory threshold variance.
        d_Z = 0.7,
        /// Maximum pyramidal firing rate.
        QV_max = 1.0,
        /// Maximum inhibitory firing rate.
        QZ_max = 1.0,
        /// Time scaling.
        t_scale = 1.0,
    }
}

/// Larter–Breakspear; state `(V, W, Z)`, coupling variable `V`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LarterBreakspear {
    /// Parameters.
    pub p: LarterBreakspearParams,
}

impl NeuralMass for LarterBreakspear {
    fn name(&self) -> &'static str {
        "LarterBreakspear"
    }
    fn state_variables(&self) -> &'static [&'static str] {
        &["V", "W", "Z"]
    }
    fn cvar(&self) -> &'static [usize] {
        &[0]
    }
    fn state_variable_range(&self) -> &'static [(f64, f64)] {
        &[(-1.5, 1.5), (-1.5, 1.5), (-1.5, 1.5)]
    }
    fn default_voi(&self) -> &'static [&'static str] {
        &["V"]
    }
    impl_params!();

    fn dfun(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        super::dispatch(self, x, c, n, dx)
    }
}

impl super::Rhs for LarterBreakspear {
    #[inline(always)]
    fn rhs(&self, x: &[f64], c: &[f64], n: usize, dx: &mut [f64]) {
        let p = &self.p;
        for k in 0..n {
            let g = |q: &crate::param::Param| q.s()[k];
            let (v, w, z, c0) = (x[k], x[n + k], x[2 * n + k], c[k]);
            let m_ca = 0.5 * (1.0 + ((v - g(&p.TCa)) / g(&p.d_Ca)).tanh());
            let m_na = 0.5 * (1.0 + ((v - g(&p.TNa)) / g(&p.d_Na)).tanh());
            let m_k = 0.5 * (1.0 + ((v - g(&p.TK)) / g(&p.d_K)).tanh());
            let qv = 0.5 * g(&p.QV_max) * (1.0 + ((v - g(&p.VT)) / g(&p.d_V)).tanh());
            let qz = 0.5 * g(&p.QZ_max) * (1.0 + ((z - g(&p.ZT)) / g(&p.d_Z)).tanh());
            let (cc, aee, rn) = (g(&p.C), g(&p.aee), g(&p.rNMDA));
            let ca = g(&p.gCa) + (1.0 - cc) * (rn * aee) * qv + cc * rn * aee * c0;
            let na = g(&p.gNa) * m_na + (1.0 - cc) * aee * qv + cc * aee * c0;
            dx[k] = g(&p.t_scale)
                * (-ca * m_ca * (v - g(&p.VCa))
                    - g(&p.gK) * w * (v - g(&p.VK))
                    - g(&p.gL) * (v - g(&p.VL))
                    - na * (v - g(&p.VNa))
                    - g(&p.aie) * z * qz
                    + g(&p.ane) * g(&p.Iext));
            dx[n + k] = g(&p.t_scale) * g(&p.phi) * (m_k - w) / g(&p.tau_K);
            dx[2 * n + k] = g(&p.t_scale) * g(&p.b) * (g(&p.ani) * g(&p.Iext) + g(&p.aei) * v * qv);
        }
    }
}
