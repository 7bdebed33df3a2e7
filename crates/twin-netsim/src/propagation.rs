//! Radio propagation: path loss, radio horizon and delay.
//!
//! | model | loss \[dB\] | parameters (default) |
//! |---|---|---|
//! | Friis (free space) | `20 log10(4 π d / λ) + L` | `system_loss_db` L (0) |
//! | two-ray ground | Friis for `d ≤ d_c = 4 π h_t h_r / λ`, else `40 log10 d − 20 log10(h_t h_r) + L` | heights = altitude + `antenna_height_m` (0) |
//! | log-distance | `PL0 + 10 n log10(d / d0)`, `PL0` below `d0` | n (3), d0 (1 m), PL0 (46.6777 dB) |
//!
//! The defaults are those of ns-3's `FriisPropagationLossModel`,
//! `TwoRayGroundPropagationLossModel` and `LogDistancePropagationLossModel`.
//!
//! **Radio horizon.** With `earth_curvature = true` a link exists only if
//! `d ≤ √(2 k R h1) + √(2 k R h2)` (smooth spherical Earth, effective radius
//! `k R`, k = 4/3 for standard refraction): 41 km for two antennas at 100 m
//! would reach each other only below 82 km, airliners at 10 km below 824 km.
//!
//! The wavelength is the transmitting radio's unless `frequency_hz` fixes
//! it for the model (as ns-3's loss models do, at 5.15 GHz by default).
//!
//! **Delay** is `d / c`, rounded to the nanosecond.

use twin_core::SimDuration;

use crate::{
    geo::{EARTH_MEAN_RADIUS, SPEED_OF_LIGHT},
    mobility::Position,
    scenario::{LossModel, PropagationSpec},
};

/// Smallest antenna height used by two-ray ground \[m\].
const MIN_HEIGHT: f64 = 0.01;

/// The propagation model shared by every link of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Propagation {
    model: LossModel,
    system_loss: f64,
    exponent: f64,
    d0: f64,
    pl0: f64,
    antenna_height: f64,
    /// Effective Earth radius `k R` when the horizon is enforced \[m\].
    horizon_radius: Option<f64>,
    /// Wavelength forced by `frequency_hz` \[m\], overriding the radio's.
    lambda: Option<f64>,
}

impl Propagation {
    /// The model a `[propagation]` section describes.
    pub fn new(spec: &PropagationSpec) -> Self {
        Propagation {
            model: spec.model,
            system_loss: spec.system_loss_db,
            exponent: spec.exponent,
            d0: spec.reference_distance_m,
            pl0: spec.reference_loss_db,
            antenna_height: spec.antenna_height_m,
            horizon_radius: spec
                .earth_curvature
                .then_some(spec.k_factor * EARTH_MEAN_RADIUS),
            lambda: spec.frequency_hz.map(|f| SPEED_OF_LIGHT / f),
        }
    }

    /// Free-space loss at distance `d` \[m\] for wavelength `lambda` \[m\].
    fn friis(&self, d: f64, lambda: f64) -> f64 {
        if d <= 0.0 {
            return 0.0;
        }
        (20.0 * (4.0 * std::f64::consts::PI * d / lambda).log10() + self.system_loss).max(0.0)
    }

    /// Path loss \[dB\] over distance `d` \[m\] between antennas at altitudes
    /// `alt_tx` and `alt_rx` \[m\].
    pub fn loss_db(&self, d: f64, lambda: f64, alt_tx: f64, alt_rx: f64) -> f64 {
        let lambda = self.lambda.unwrap_or(lambda);
        match self.model {
            LossModel::Friis => self.friis(d, lambda),
            LossModel::TwoRay => {
                let ht = (alt_tx + self.antenna_height).max(MIN_HEIGHT);
                let hr = (alt_rx + self.antenna_height).max(MIN_HEIGHT);
                let crossover = 4.0 * std::f64::consts::PI * ht * hr / lambda;
                if d <= crossover {
                    self.friis(d, lambda)
                } else {
                    40.0 * d.log10() - 20.0 * (ht * hr).log10() + self.system_loss
                }
            }
            LossModel::LogDistance => {
                if d <= self.d0 {
                    self.pl0
                } else {
                    self.pl0 + 10.0 * self.exponent * (d / self.d0).log10()
                }
            }
        }
    }

    /// Whether the radio horizon lets `a` and `b` see each other at distance `d`.
    pub fn line_of_sight(&self, d: f64, a: &Position, b: &Position) -> bool {
        match self.horizon_radius {
            None => true,
            Some(kr) => {
                let h = |p: &Position| (2.0 * kr * (p.alt + self.antenna_height).max(0.0)).sqrt();
                d <= h(a) + h(b)
            }
        }
    }

    /// Received power \[dBm\] at `rx` of `eirp_dbm` (transmit power plus both
    /// antenna gains) sent from `tx`, with the distance; `None` beyond the
    /// radio horizon.
    pub fn rx_power_dbm(
        &self,
        eirp_dbm: f64,
        lambda: f64,
        tx: &Position,
        rx: &Position,
    ) -> Option<(f64, f64)> {
        let d = tx.xyz.distance(rx.xyz);
        if !self.line_of_sight(d, tx, rx) {
            return None;
        }
        Some((eirp_dbm - self.loss_db(d, lambda, tx.alt, rx.alt), d))
    }

    /// A distance beyond which the loss certainly exceeds `max_loss_db`,
    /// whatever the antenna heights: the spatial filter's radius.
    pub fn range_for_loss(&self, max_loss_db: f64, lambda: f64) -> f64 {
        let lambda = self.lambda.unwrap_or(lambda);
        match self.model {
            // Two-ray loses at least as much as free space beyond crossover.
            LossModel::Friis | LossModel::TwoRay => {
                let pl = max_loss_db - self.system_loss;
                lambda / (4.0 * std::f64::consts::PI) * 10f64.powf(pl / 20.0)
            }
            LossModel::LogDistance => {
                if max_loss_db <= self.pl0 {
                    self.d0
                } else {
                    self.d0 * 10f64.powf((max_loss_db - self.pl0) / (10.0 * self.exponent))
                }
            }
        }
    }

    /// Propagation delay over `d` metres at the speed of light.
    pub fn delay(d: f64) -> SimDuration {
        SimDuration::from_nanos((d / SPEED_OF_LIGHT * 1e9).round() as u64)
    }

    /// Whether the radio horizon is enforced.
    pub fn has_horizon(&self) -> bool {
        self.horizon_radius.is_some()
    }
}

#[cfg(test)]
mod tests;
