//! A smooth, censored observation model of seizure onset per SEEG channel:
//! the alternative to comparing every log-power window ([`crate::objective`]).
//!
//! # Why
//!
//! The deterministic Epileptor network has a near-discontinuity in x0: an
//! isolated region started at rest seizes after ≈ 20 s once x0 passes the
//! bifurcation, and not at all a few 10⁻⁴ below it. Compared window by window
//! (σ = 0.5 on a log-power jump of ≈ 7, over tens of windows and several
//! channels) that step costs 10³–10⁶ nats, a wall NUTS cannot integrate across
//! (validation/vep/nuts/README.md). Here each channel contributes one onset
//! time with a few seconds of uncertainty, so the same step costs a few nats
//! and the likelihood is smooth (C^∞) in the predicted log-power.
//!
//! # Model
//!
//! With `m_ck` the predicted log-power of channel `c` in window `k`
//! (start `s_k`), `θ_c` the detector's threshold (baseline median +
//! threshold, from the recording) and `σ` the log-power noise, the detector
//! fires in window `k` with probability `e_ck = Φ((m_ck − θ_c)/σ)`, taken
//! with the logistic approximation `Φ(z) ≈ 1/(1 + e^{−1.702 z})` (error
//! < 0.01), whose derivative is exact. The first detection is at window `k`
//! with probability `e_ck Π_{j<k} (1 − e_cj)`, never with `Π_k (1 − e_ck)`;
//! the expected detection time, with "never" counted as `T_∞`, is
//!
//! ```text
//! E_c = V_c0,   V_cK = T_∞,   V_ck = e_ck s_k + (1 − e_ck) V_c(k+1)
//! ```
//!
//! The detection error `t_c − E_c` is logistic with scale `ς = σ_T/1.702`
//! (the distribution whose CDF is the approximation above, sd ≈ σ_T): a
//! detected onset `t_c` contributes `−ln f = r/ς + 2 ln(1 + e^{−r/ς}) + ln ς`,
//! `r = E_c − t_c`; a channel without onset is right-censored at the last
//! window `s_end`, contributing the survival `−ln F((E_c − s_end)/ς) =
//! ln(1 + e^{−(E_c − s_end)/ς})`. `T_∞ = s_end + 2 σ_T`, so a channel the model
//! keeps quiet costs ≈ 0.03 nats, one it makes seize at `s_end − a` ≈ `a/ς`.
//! Both tails are linear, not quadratic: the step that remains where a region
//! crosses its bifurcation (onset from "never" to ≈ 20 s) costs tens of nats
//! per channel, not hundreds, and a spurious or missed detection cannot
//! dominate the fit.
//!
//! The gradient with respect to `m` is `∂E_c/∂e_ck = S_ck (s_k − V_c(k+1))`,
//! `S_ck = Π_{j<k} (1 − e_cj)`, times `e_ck (1 − e_ck) · 1.702/σ`; the
//! adjoint of the model ([`crate::objective`]) takes it from there.
//!
//! Onset-time observation models of this kind are the ones of Proix et al.
//! (2017, Brain 140: 641) and Vattikonda et al. (2021, Commun Biol); the
//! censored (survival) term for silent channels is ours.

use serde::{Deserialize, Serialize};

/// Which observation model the fit compares the data through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Likelihood {
    /// Every log-power window, Gaussian (the BVEP form).
    #[default]
    Power,
    /// One onset time per channel, censored where none is seen ([`Onsets`]).
    Onset,
}

/// The logistic approximation of the standard normal CDF.
const PROBIT: f64 = 1.702;

/// The onset data of one fit (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Onsets {
    /// Detector threshold per channel (log-power units).
    pub threshold: Vec<f64>,
    /// Log-power noise σ of the detection probability.
    pub noise: f64,
    /// Window start times \[s\].
    pub start_s: Vec<f64>,
    /// Detected onset per channel \[s\].
    pub observed_s: Vec<Option<f64>>,
    /// Onset-time uncertainty σ_T \[s\].
    pub sd_s: f64,
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 30.0 {
        z
    } else {
        z.exp().ln_1p()
    }
}

impl Onsets {
    /// The censoring time (last window start) \[s\].
    pub fn end_s(&self) -> f64 {
        self.start_s.last().copied().unwrap_or(0.0)
    }

    /// `T_∞`, the detection time counted for "never" \[s\].
    pub fn never_s(&self) -> f64 {
        self.end_s() + 2.0 * self.sd_s
    }

    /// Expected detection time per channel for predicted log-power `m`
    /// (`windows × channels`).
    pub fn expected(&self, m: &[f64]) -> Vec<f64> {
        let nc = self.threshold.len();
        (0..nc).map(|c| self.channel(m, c, None)).collect()
    }

    /// `E_c`; with `grad`, adds `w · ∂E_c/∂m_ck` into `grad[k·nc + c]` for the given weight `w`.
    fn channel(&self, m: &[f64], c: usize, grad: Option<(&mut [f64], f64)>) -> f64 {
        let nc = self.threshold.len();
        let nw = self.start_s.len();
        let e: Vec<f64> = (0..nw)
            .map(|k| sigmoid(PROBIT * (m[k * nc + c] - self.threshold[c]) / self.noise))
            .collect();
        // V_k backwards; V[k] is the expected time given no detection before k.
        let mut v = vec![self.never_s(); nw + 1];
        for k in (0..nw).rev() {
            v[k] = e[k] * self.start_s[k] + (1.0 - e[k]) * v[k + 1];
        }
        if let Some((g, w)) = grad {
            let mut surv = 1.0;
            for k in 0..nw {
                let de = surv * (self.start_s[k] - v[k + 1]);
                g[k * nc + c] += w * de * e[k] * (1.0 - e[k]) * PROBIT / self.noise;
                surv *= 1.0 - e[k];
            }
        }
        v[0]
    }

    /// `−ln p(onsets | m)` and its gradient with respect to `m`.
    pub fn value_grad(&self, m: &[f64]) -> (f64, Vec<f64>) {
        let nc = self.threshold.len();
        let mut g = vec![0.0; m.len()];
        let mut u = 0.0;
        let sd = self.sd_s;
        for c in 0..nc {
            let ec = self.channel(m, c, None);
            let scale = sd / PROBIT;
            let du_de = match self.observed_s[c] {
                Some(t) => {
                    let r = (ec - t) / scale;
                    u += r + 2.0 * softplus(-r) + scale.ln();
                    (1.0 - 2.0 * sigmoid(-r)) / scale
                }
                None => {
                    let z = (ec - self.end_s()) / scale;
                    u += softplus(-z);
                    -sigmoid(-z) / scale
                }
            };
            self.channel(m, c, Some((&mut g, du_de)));
        }
        (u, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onsets() -> Onsets {
        Onsets {
            threshold: vec![1.0, 0.5],
            noise: 0.5,
            start_s: (0..12).map(|k| k as f64 * 0.5).collect(),
            observed_s: vec![Some(2.5), None],
            sd_s: 1.0,
        }
    }

    /// A log-power trace that steps from 0 to `high` at time `at`.
    fn step(o: &Onsets, at: [f64; 2], high: f64) -> Vec<f64> {
        let mut m = vec![0.0; o.start_s.len() * 2];
        for (k, &s) in o.start_s.iter().enumerate() {
            for c in 0..2 {
                m[k * 2 + c] = if s >= at[c] { high } else { -2.5 };
            }
        }
        m
    }

    #[test]
    fn expected_time_follows_the_crossing_and_is_censored_when_quiet() {
        let o = onsets();
        let e = o.expected(&step(&o, [2.5, 99.0], 6.0));
        assert!((e[0] - 2.5).abs() < 0.05, "{e:?}");
        assert!((e[1] - o.never_s()).abs() < 0.01, "{e:?}");
        let (u_fit, _) = o.value_grad(&step(&o, [2.5, 99.0], 6.0));
        let (u_bad, _) = o.value_grad(&step(&o, [2.5, 3.0], 6.0));
        // The fitting trace costs the logistic density's floor ln(4ς) only.
        let floor = 2.0 * 2f64.ln() + (o.sd_s / PROBIT).ln();
        assert!((u_fit - floor).abs() < 0.1, "{u_fit} vs {floor}");
        // A silent channel made to seize 2.5 s before the end: ≈ 1.702 · 2.5.
        assert!(u_bad - u_fit > 3.5 && u_bad - u_fit < 5.0, "{u_bad}");
    }

    #[test]
    fn gradient_matches_central_finite_differences() {
        let o = onsets();
        let mut m = step(&o, [2.2, 4.4], 2.0);
        for (i, v) in m.iter_mut().enumerate() {
            *v += 0.3 * ((i as f64) * 0.7).sin();
        }
        let (_, g) = o.value_grad(&m);
        for j in 0..m.len() {
            let h = 1e-6;
            let (mut p, mut q) = (m.clone(), m.clone());
            p[j] += h;
            q[j] -= h;
            let fd = (o.value_grad(&p).0 - o.value_grad(&q).0) / (2.0 * h);
            assert!(
                (g[j] - fd).abs() <= 1e-6 * fd.abs() + 1e-8,
                "m[{j}]: {} vs {fd}",
                g[j]
            );
        }
    }
}
