//! Runtime CPU-feature dispatch for the hot loops.
//!
//! The release build targets baseline x86-64 (SSE2), so that the binaries run
//! on any x86-64 CPU. The loops that dominate a simulation step (the coupling
//! gather and row sums, the models' right-hand sides, the integrator's
//! updates, the history writes, the noise draws) are wrapped in `kernel!`: the
//! [`multiversion`] crate compiles each of them again with AVX-512 and with
//! AVX2 + FMA enabled and picks, at the first call, the widest clone the CPU
//! supports (one cached atomic load per call afterwards). Everything that the
//! wrapped function inlines is compiled for the chosen features, hence the
//! `#[inline(always)]` on the functions those kernels call.
//!
//! # Parity
//!
//! Wider registers change how many lanes an operation covers, never its
//! rounding: Rust does not contract `a * b + c` into a fused multiply-add
//! (FMA is only emitted for an explicit `mul_add`, which this crate does not
//! call; the release binaries contain no `vfmadd` at all), and the summation
//! orders are fixed in the source ([`crate::numpy_sum`]). So every clone
//! returns bit-identical results: the 50 TVB reference runs
//! (`tests/it/tvb_references.rs`) give the same max |Δ| as the SSE2-only
//! build, 0 for every Linear and Difference run.
//!
//! `libm` calls (`exp`, `tanh`, …) stay calls to the system library, one
//! value at a time, so models built on them gain less.

/// Compiles the item (a free function) for AVX-512, for AVX2 + FMA and for
/// the build's baseline, dispatching at run time.
macro_rules! kernel {
    ($item:item) => {
        #[multiversion::multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
            "x86_64+avx2+fma",
        ))]
        $item
    };
}
pub(crate) use kernel;

/// Asks the CPU to bring the cache line holding `buf[at]` into all its cache
/// levels (x86-64 `prefetcht0`; nothing elsewhere, or past the end of
/// `buf`). A hint: it neither faults nor loads anything into the program, so
/// it cannot change a result.
#[inline(always)]
pub(crate) fn prefetch(buf: &[f32], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = buf.get(at) {
        safe_arch::prefetch_t0(x);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (buf, at);
}

/// The clone the dispatcher picks on this CPU, for logs and benchmarks.
pub fn selected_features() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return "avx512";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "avx2+fma";
        }
    }
    "baseline"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_widest_clone_the_cpu_supports() {
        let f = selected_features();
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            let avx512 = avx2 && std::arch::is_x86_feature_detected!("avx512vl");
            match (avx512, avx2) {
                (true, _) => assert!(f == "avx512" || f == "avx2+fma", "{f}"),
                (false, true) => assert_eq!(f, "avx2+fma"),
                _ => assert_eq!(f, "baseline"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        assert_eq!(f, "baseline");
    }
}
