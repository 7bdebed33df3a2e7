//! Numerical building blocks of the fit: L-BFGS minimisation with a
//! backtracking (Armijo) line search (Nocedal & Wright 2006, alg. 7.4/7.5),
//! and the cyclic Jacobi eigen-decomposition of a symmetric matrix
//! (Golub & Van Loan 2013, §8.5), used for the Laplace covariance.

/// An objective returning its value and gradient.
pub type Objective<'a> = dyn FnMut(&[f64]) -> (f64, Vec<f64>) + 'a;

/// Result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// Argument of the minimum.
    pub x: Vec<f64>,
    /// Value there.
    pub value: f64,
    /// Gradient there.
    pub grad: Vec<f64>,
    /// Iterations used.
    pub iterations: usize,
    /// Objective/gradient evaluations.
    pub evaluations: usize,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` (value and gradient) from `x0` with L-BFGS (memory `m`).
///
/// Stops when the gradient's max-norm is below `gtol`, when the relative
/// decrease of one iteration is below 1e-10, or after `max_iter` iterations.
/// Non-finite values are treated as +∞ (the line search backs off).
pub fn lbfgs(f: &mut Objective<'_>, x0: &[f64], m: usize, max_iter: usize, gtol: f64) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let (mut fx, mut g) = f(&x);
    let mut evals = 1;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut iters = 0;
    while iters < max_iter {
        if g.iter().fold(0.0f64, |a, v| a.max(v.abs())) < gtol {
            break;
        }
        iters += 1;
        // Two-loop recursion: d = −H g.
        let mut q = g.clone();
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
            alpha[i] = rho * dot(&s_hist[i], &q);
            for j in 0..n {
                q[j] -= alpha[i] * y_hist[i][j];
            }
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0)
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..k {
            let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
            let beta = rho * dot(&y_hist[i], &q);
            for j in 0..n {
                q[j] += s_hist[i][j] * (alpha[i] - beta);
            }
        }
        let mut d: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            d = g.iter().map(|v| -v).collect();
            slope = dot(&g, &d);
            s_hist.clear();
            y_hist.clear();
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + step * b).collect();
            let (fn_, gn) = f(&xn);
            evals += 1;
            if fn_.is_finite()
                && fn_ <= fx + 1e-4 * step * slope
                && gn.iter().all(|v| v.is_finite())
            {
                accepted = Some((xn, fn_, gn));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fn_, gn)) = accepted else {
            break;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let decrease = (fx - fn_) / fx.abs().max(1.0);
        if dot(&s, &y) > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > m {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        x = xn;
        fx = fn_;
        g = gn;
        if decrease < 1e-10 {
            break;
        }
    }
    Minimum {
        x,
        value: fx,
        grad: g,
        iterations: iters,
        evaluations: evals,
    }
}

/// Eigen-decomposition of a symmetric `n × n` matrix (row-major):
/// eigenvalues and eigenvectors as the columns of `V` (row-major).
pub fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        let total: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-22 * total.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbfgs_finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| {
            let (a, b) = (x[0], x[1]);
            let v = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = vec![
                -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                200.0 * (b - a * a),
            ];
            (v, g)
        };
        let m = lbfgs(&mut f, &[-1.2, 1.0], 8, 500, 1e-8);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }

    #[test]
    fn jacobi_reconstructs_a_symmetric_matrix() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, -0.2, 0.5, -0.2, 1.0];
        let (l, v) = sym_eigen(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i * 3 + k] * l[k] * v[j * 3 + k]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-12);
            }
        }
    }
}
