//! The No-U-Turn sampler (NUTS) with multinomial trajectory sampling, as in
//! Stan (Hoffman & Gelman 2014, JMLR 15:1593; Betancourt 2017,
//! arXiv:1701.02434, appendix A), on the same whitened coordinates as
//! [`crate::hmc`] (`θ = θ_MAP + L u`, diagonal inverse mass `M⁻¹` in `u`).
//!
//! One transition draws `p ~ N(0, M)`, then doubles a trajectory in a random
//! direction (depth `j` adds `2^j` leapfrog steps) until the generalised
//! no-U-turn criterion fails on the whole tree or on either of its two
//! halves' joins,
//!
//! ```text
//! ρ · M⁻¹p⁻ > 0  and  ρ · M⁻¹p⁺ > 0,    ρ = Σ_{states in the tree} p
//! ```
//!
//! or a step diverges (`H − H₀ > 1000`), or the depth reaches `max_depth`.
//! Each state `s` carries the weight `exp(H₀ − H(s))`: within a subtree the
//! proposal is drawn multinomially, and a new subtree replaces the sample
//! with probability `min(1, w_new / w_old)` (biased progressive sampling).
//! The statistic fed to step-size adaptation is the mean Metropolis
//! probability `min(1, exp(H₀ − H))` over the new states.
//!
//! Warm-up adapts the step size by dual averaging throughout and estimates
//! the diagonal inverse mass once from the draws of the 15–75 % window (then
//! restarts the step-size adaptation), as [`crate::hmc`] does.

use crate::fit::Laplace;
use crate::hmc::{potential, Chain, DualAveraging, HmcSettings};
use crate::objective::Problem;
use crate::rng::Rng;

/// A point of phase space with its potential and gradient.
#[derive(Clone)]
struct State {
    q: Vec<f64>,
    p: Vec<f64>,
    v: f64,
    g: Vec<f64>,
}

fn log_sum_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// `true` while the trajectory spanned by `rho` keeps moving apart at both ends.
fn no_u_turn(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    let dot = |a: &[f64]| a.iter().zip(rho).map(|(x, y)| x * y).sum::<f64>();
    dot(p_sharp_plus) > 0.0 && dot(p_sharp_minus) > 0.0
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// The tree-building context of one transition.
struct Builder<'a> {
    p: &'a Problem,
    lap: &'a Laplace,
    minv: &'a [f64],
    eps: f64,
    h0: f64,
    n_leapfrog: usize,
    sum_metro: f64,
    divergent: bool,
}

/// Ends and running sums of a (sub)tree.
struct Tree {
    p_beg: Vec<f64>,
    p_end: Vec<f64>,
    ps_beg: Vec<f64>,
    ps_end: Vec<f64>,
    rho: Vec<f64>,
    log_w: f64,
    propose: State,
}

impl Builder<'_> {
    fn hamiltonian(&self, s: &State) -> f64 {
        let k: f64 = s.p.iter().zip(self.minv).map(|(x, m)| x * x * m).sum();
        s.v + 0.5 * k
    }

    fn sharp(&self, p: &[f64]) -> Vec<f64> {
        p.iter().zip(self.minv).map(|(x, m)| x * m).collect()
    }

    fn leapfrog(&self, z: &mut State, sign: f64) -> bool {
        let e = sign * self.eps;
        for k in 0..z.q.len() {
            z.p[k] -= 0.5 * e * z.g[k];
            z.q[k] += e * self.minv[k] * z.p[k];
        }
        let (v, g) = potential(self.p, self.lap, &z.q);
        if !v.is_finite() || g.iter().any(|x| !x.is_finite()) {
            return false;
        }
        z.v = v;
        z.g = g;
        for k in 0..z.q.len() {
            z.p[k] -= 0.5 * e * z.g[k];
        }
        true
    }

    /// Extends `z` by `2^depth` steps in direction `sign`; `None` when the
    /// subtree diverged or turned back on itself.
    fn build(&mut self, depth: u32, z: &mut State, sign: f64, rng: &mut Rng) -> Option<Tree> {
        if depth == 0 {
            self.n_leapfrog += 1;
            let ok = self.leapfrog(z, sign);
            let h = if ok {
                self.hamiltonian(z)
            } else {
                f64::INFINITY
            };
            let h = if h.is_nan() { f64::INFINITY } else { h };
            if h - self.h0 > 1000.0 {
                self.divergent = true;
                return None;
            }
            self.sum_metro += (self.h0 - h).exp().min(1.0);
            let ps = self.sharp(&z.p);
            return Some(Tree {
                p_beg: z.p.clone(),
                p_end: z.p.clone(),
                ps_beg: ps.clone(),
                ps_end: ps,
                rho: z.p.clone(),
                log_w: self.h0 - h,
                propose: z.clone(),
            });
        }
        let init = self.build(depth - 1, z, sign, rng)?;
        let fin = self.build(depth - 1, z, sign, rng)?;
        let log_w = log_sum_exp(init.log_w, fin.log_w);
        let take_final = fin.log_w > log_w || rng.uniform() < (fin.log_w - log_w).exp();
        let rho = add(&init.rho, &fin.rho);
        let persist = no_u_turn(&init.ps_beg, &fin.ps_end, &rho)
            && no_u_turn(&init.ps_beg, &fin.ps_beg, &add(&init.rho, &fin.p_beg))
            && no_u_turn(&init.ps_end, &fin.ps_end, &add(&fin.rho, &init.p_end));
        if !persist {
            return None;
        }
        Some(Tree {
            p_beg: init.p_beg,
            p_end: fin.p_end,
            ps_beg: init.ps_beg,
            ps_end: fin.ps_end,
            rho,
            log_w,
            propose: if take_final {
                fin.propose
            } else {
                init.propose
            },
        })
    }
}

/// One NUTS transition from `z`; returns the next state, the mean
/// Metropolis probability, the leapfrog steps taken and whether it diverged.
fn transition(
    p: &Problem,
    lap: &Laplace,
    minv: &[f64],
    eps: f64,
    max_depth: u32,
    z: &State,
    rng: &mut Rng,
) -> (State, f64, usize, bool) {
    let d = z.q.len();
    let mut z0 = z.clone();
    z0.p = (0..d).map(|k| rng.normal() / minv[k].sqrt()).collect();
    let mut b = Builder {
        p,
        lap,
        minv,
        eps,
        h0: 0.0,
        n_leapfrog: 0,
        sum_metro: 0.0,
        divergent: false,
    };
    b.h0 = b.hamiltonian(&z0);
    let ps0 = b.sharp(&z0.p);
    // Outer ends: backward (bck) and forward (fwd) trajectory tips.
    let (mut z_fwd, mut z_bck) = (z0.clone(), z0.clone());
    let (mut p_fwd, mut p_bck) = (z0.p.clone(), z0.p.clone());
    let (mut ps_fwd, mut ps_bck) = (ps0.clone(), ps0);
    let mut rho = z0.p.clone();
    let mut log_w = 0.0;
    let mut sample = z0;
    for depth in 0..max_depth {
        let forward = rng.uniform() > 0.5;
        let (tip, sign) = if forward {
            (&mut z_fwd, 1.0)
        } else {
            (&mut z_bck, -1.0)
        };
        let Some(t) = b.build(depth, tip, sign, rng) else {
            break;
        };
        if t.log_w > log_w || rng.uniform() < (t.log_w - log_w).exp() {
            sample = t.propose.clone();
        }
        log_w = log_sum_exp(log_w, t.log_w);
        // Ends of the old tree: the inner one touches the new subtree.
        let (tip_p, tip_ps, outer_ps) = if forward {
            (&mut p_fwd, &mut ps_fwd, &ps_bck)
        } else {
            (&mut p_bck, &mut ps_bck, &ps_fwd)
        };
        let total = add(&rho, &t.rho);
        let persist = no_u_turn(outer_ps, &t.ps_end, &total)
            && no_u_turn(outer_ps, &t.ps_beg, &add(&rho, &t.p_beg))
            && no_u_turn(tip_ps, &t.ps_end, &add(&t.rho, tip_p));
        *tip_p = t.p_end;
        *tip_ps = t.ps_end;
        rho = total;
        if !persist {
            break;
        }
    }
    let accept = b.sum_metro / b.n_leapfrog.max(1) as f64;
    (sample, accept, b.n_leapfrog, b.divergent)
}

/// Runs one NUTS chain (warm-up as in the module docs).
pub(crate) fn run_chain(p: &Problem, lap: &Laplace, s: &HmcSettings, chain: usize) -> Chain {
    let d = lap.mean.len();
    let mut rng = Rng::new(s.seed, 100 + chain as u64);
    let q: Vec<f64> = (0..d).map(|_| 0.5 * rng.normal()).collect();
    let (v, g) = potential(p, lap, &q);
    let mut z = State {
        q,
        p: vec![0.0; d],
        v,
        g,
    };
    let mut minv = vec![1.0f64; d];
    let (w_start, w_end) = (s.warmup * 15 / 100, s.warmup * 75 / 100);
    let mut window: Vec<Vec<f64>> = Vec::new();
    let mut eps: f64 = 0.3;
    let mut da = DualAveraging::new(eps, s.target_accept);
    let mut draws = Vec::with_capacity(s.draws);
    let (mut acc_sum, mut leapfrogs, mut divergences) = (0.0, 0usize, 0usize);
    for it in 0..(s.warmup + s.draws) {
        let (next, a, n, div) = transition(p, lap, &minv, eps, s.max_depth, &z, &mut rng);
        z = next;
        if it < s.warmup {
            eps = da.update(a);
            if (w_start..w_end).contains(&it) {
                window.push(z.q.clone());
            }
            if it + 1 == w_end && window.len() > 10 {
                crate::hmc::estimate_inverse_mass(&window, &mut minv);
                da = DualAveraging::new(eps, s.target_accept);
            }
            if it + 1 == s.warmup {
                eps = da.final_step();
            }
        } else {
            acc_sum += a;
            leapfrogs += n;
            divergences += usize::from(div);
            draws.push(lap.transform(&z.q));
        }
    }
    Chain {
        draws,
        accept: acc_sum / s.draws.max(1) as f64,
        step: eps,
        leapfrogs,
        divergences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_turn_criterion_stops_reversing_trajectories() {
        // Momenta pointing the same way as the summed momentum keep going.
        assert!(no_u_turn(&[1.0, 0.0], &[0.5, 0.5], &[2.0, 0.5]));
        // The forward end points back: a U-turn.
        assert!(!no_u_turn(&[1.0, 0.0], &[-1.0, 0.1], &[0.5, 0.2]));
        assert!((log_sum_exp(0.0, 0.0) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(log_sum_exp(f64::NEG_INFINITY, -3.0), -3.0);
    }
}
