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
use crate::hmc::{potential, Chain, DualAveraging, HmcSettings, Metric};
use crate::objective::Problem;
use crate::optim::sym_eigen;
use crate::rng::Rng;

/// Whitened position, energy error and finiteness of a divergent step.
type Site = (Vec<f64>, f64, bool);

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
    /// The first divergent step.
    site: Option<Site>,
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
                if self.site.is_none() {
                    self.site = Some((z.q.clone(), h - self.h0, ok));
                }
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
) -> (State, f64, usize, Option<Site>) {
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
        site: None,
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
    (sample, accept, b.n_leapfrog, b.site)
}

/// Warm-up windows `[start, end)` at whose ends the metric is re-estimated:
/// Stan's schedule (initial buffer 75, first window 25 doubling, final buffer
/// 50 of 1000 iterations) scaled to `warmup`; the last window runs up to the
/// final buffer.
pub(crate) fn adaptation_windows(warmup: usize) -> Vec<(usize, usize)> {
    let init = warmup * 75 / 1000;
    let term = warmup * 50 / 1000;
    let mut len = (warmup * 25 / 1000).max(5);
    let end = warmup.saturating_sub(term);
    let mut v = Vec::new();
    let mut start = init;
    while start + len <= end {
        // A window whose doubled successor would not fit absorbs the rest.
        let stop = if start + 3 * len > end {
            end
        } else {
            start + len
        };
        v.push((start, stop));
        start = stop;
        len *= 2;
    }
    v
}

/// Re-whitens the chain's coordinates with the draws of one window: with `m`,
/// `S` their mean and covariance (in the current coordinates `u`), shrunk as
/// Stan does (`Σ = n/(n+5) S + 10⁻³·5/(n+5) I`; only its diagonal when the
/// window holds fewer than `2d` draws), and `Σ = V Λ Vᵀ`, the new coordinates
/// are `v = Λ^{-1/2} Vᵀ (u − m)`, i.e. `θ = θ₀ + L m + L V Λ^{1/2} v`: a dense
/// mass matrix `Σ⁻¹` composed with the Laplace factor.
fn rewhiten(lap: &mut Laplace, window: &[Vec<f64>], z: &mut State, p: &Problem) {
    let d = lap.mean.len();
    let n = window.len() as f64;
    let m: Vec<f64> = (0..d)
        .map(|k| window.iter().map(|w| w[k]).sum::<f64>() / n)
        .collect();
    let dense = window.len() >= 2 * d;
    let mut cov = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            if i != j && !dense {
                continue;
            }
            let c = window
                .iter()
                .map(|w| (w[i] - m[i]) * (w[j] - m[j]))
                .sum::<f64>()
                / (n - 1.0);
            cov[i * d + j] =
                (n / (n + 5.0)) * c + if i == j { 1e-3 * 5.0 / (n + 5.0) } else { 0.0 };
        }
    }
    let (lam, vecs) = sym_eigen(&cov, d);
    let root: Vec<f64> = lam.iter().map(|l| l.max(1e-12).sqrt()).collect();
    let new_mean = lap.transform(&m);
    let mut factor = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            factor[i * d + k] = (0..d)
                .map(|j| lap.factor[i * d + j] * vecs[j * d + k])
                .sum::<f64>()
                * root[k];
        }
    }
    let q: Vec<f64> = (0..d)
        .map(|k| {
            (0..d)
                .map(|j| vecs[j * d + k] * (z.q[j] - m[j]))
                .sum::<f64>()
                / root[k]
        })
        .collect();
    lap.mean = new_mean;
    lap.factor = factor;
    let (v, g) = potential(p, lap, &q);
    z.q = q;
    z.v = v;
    z.g = g;
}

/// Runs one NUTS chain (warm-up as in the module docs).
pub(crate) fn run_chain(p: &Problem, lap0: &Laplace, s: &HmcSettings, chain: usize) -> Chain {
    let mut lap = lap0.clone();
    let d = lap.mean.len();
    let mut rng = Rng::new(s.seed, 100 + chain as u64);
    let q: Vec<f64> = (0..d).map(|_| 0.5 * rng.normal()).collect();
    let (v, g) = potential(p, &lap, &q);
    let mut z = State {
        q,
        p: vec![0.0; d],
        v,
        g,
    };
    let mut minv = vec![1.0f64; d];
    let windows = match s.metric {
        Metric::Dense => adaptation_windows(s.warmup),
        Metric::Diagonal => vec![(s.warmup * 15 / 100, s.warmup * 75 / 100)],
    };
    let mut window: Vec<Vec<f64>> = Vec::new();
    let mut eps: f64 = 0.3;
    let mut da = DualAveraging::new(eps, s.target_accept);
    let mut draws = Vec::with_capacity(s.draws);
    let (mut acc_sum, mut leapfrogs, mut divergences) = (0.0, 0usize, 0usize);
    let mut sites = Vec::new();
    for it in 0..(s.warmup + s.draws) {
        let from = z.q.clone();
        let (next, a, n, site) = transition(p, &lap, &minv, eps, s.max_depth, &z, &mut rng);
        z = next;
        if let Some((q, energy, finite)) = &site {
            sites.push(crate::hmc::DivergenceSite {
                chain,
                iteration: it,
                warmup: it < s.warmup,
                from: lap.transform(&from),
                at: lap.transform(q),
                from_whitened: from.clone(),
                at_whitened: q.clone(),
                energy_error: *energy,
                finite: *finite,
            });
        }
        let div = site.is_some();
        if it < s.warmup {
            eps = da.update(a);
            if let Some(&(_, w_end)) = windows.iter().find(|w| (w.0..w.1).contains(&it)) {
                window.push(z.q.clone());
                if it + 1 == w_end && window.len() > 10 {
                    match s.metric {
                        Metric::Dense => rewhiten(&mut lap, &window, &mut z, p),
                        Metric::Diagonal => crate::hmc::estimate_inverse_mass(&window, &mut minv),
                    }
                    window.clear();
                    da = DualAveraging::new(eps, s.target_accept);
                }
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
        sites,
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

    #[test]
    fn rewhitening_moves_coordinates_not_the_point() {
        let (p, theta) = crate::objective::tests::problem();
        let mut lap = crate::fit::laplace(&p, &theta);
        let d = theta.len();
        let mut rng = Rng::new(5, 6);
        // Correlated window draws: u_1 = 3 u_0 + noise.
        let window: Vec<Vec<f64>> = (0..60)
            .map(|_| {
                let a = rng.normal();
                let mut w: Vec<f64> = (0..d).map(|_| 0.2 * rng.normal()).collect();
                w[0] += a;
                w[1] += 3.0 * a;
                w
            })
            .collect();
        let q: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
        let (v, g) = potential(&p, &lap, &q);
        let mut z = State {
            q: q.clone(),
            p: vec![0.0; d],
            v,
            g,
        };
        let before = lap.transform(&q);
        rewhiten(&mut lap, &window, &mut z, &p);
        let after = lap.transform(&z.q);
        for (a, b) in before.iter().zip(&after) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!((z.v - p.value(&after)).abs() < 1e-9 * z.v.abs().max(1.0));
        // The new origin is the window mean, and the new metric spans the
        // window's covariance: θ-covariance F' F'ᵀ = F Σ Fᵀ with Σ ≈ S.
        let old = crate::fit::laplace(&p, &theta);
        let n = window.len() as f64;
        let m: Vec<f64> = (0..d)
            .map(|k| window.iter().map(|w| w[k]).sum::<f64>() / n)
            .collect();
        for (a, b) in lap.transform(&vec![0.0; d]).iter().zip(old.transform(&m)) {
            assert!((a - b).abs() < 1e-9);
        }
        let th_var = |f: &[f64], k: usize| (0..d).map(|j| f[k * d + j].powi(2)).sum::<f64>();
        let w_th: Vec<f64> = window.iter().map(|w| old.transform(w)[1]).collect();
        let wm = w_th.iter().sum::<f64>() / n;
        let s_th = w_th.iter().map(|x| (x - wm).powi(2)).sum::<f64>() / (n - 1.0);
        let ratio = th_var(&lap.factor, 1) / s_th;
        assert!((ratio - n / (n + 5.0)).abs() < 0.02, "{ratio}");
    }

    #[test]
    fn adaptation_windows_double_and_end_at_the_final_buffer() {
        let w = adaptation_windows(1000);
        assert_eq!(
            w,
            vec![(75, 100), (100, 150), (150, 250), (250, 450), (450, 950)]
        );
        let w = adaptation_windows(300);
        assert_eq!(w.first().unwrap().0, 22);
        assert_eq!(w.last().unwrap().1, 285);
        assert!(w.windows(2).all(|p| p[0].1 == p[1].0));
    }
}
