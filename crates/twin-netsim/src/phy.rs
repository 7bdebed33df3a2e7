//! The physical layer: frame timing, reception with SINR over accumulated
//! interference, packet errors by modulation and rate, and clear-channel
//! assessment.
//!
//! # Reception
//!
//! A signal reaching a node above the spatial filter's floor starts an
//! explicit process at that node ([`PhyState`]):
//!
//! ```text
//!            signal start: RSSI ≥ min and SNR ≥ threshold     signal end (locked)
//!  Idle/CcaBusy ─────────────────────────────────────► Rx ──────────────────────► Idle/CcaBusy
//!       │  ▲                                                 (success drawn from PER)
//!       │  └── energy < CCA threshold ── CcaBusy ◄── energy ≥ CCA threshold
//!       └── own transmission ──► Tx ── end ──► Idle/CcaBusy   (a transmission aborts Rx)
//! ```
//!
//! * **Preamble detection** (ns-3 `ThresholdPreambleDetectionModel`): lock on
//!   a frame if its RSSI ≥ `preamble_min_rssi_dbm` (−82) and its SNR against
//!   noise plus the interference present at that instant ≥ `preamble_snr_db`
//!   (4). No capture: a locked receiver treats later frames as interference.
//! * **Success** of a locked frame: the frame is cut into chunks at every
//!   instant the interference changes; chunk `i` survives with
//!   `P_i = (1 − BER(SINR_i))^bits_i` (module `error` for BER by mode), and the
//!   frame with `∏ P_i`. The preamble is not counted; the PLCP header uses
//!   the 1 Mb/s DBPSK mode, the payload the frame's mode. Interference comes
//!   from *every* transmission on the air, however weak, computed when
//!   needed from the channel's list of active transmissions, so receivers
//!   outside the filter cost nothing but still interfere.
//! * **Carrier sense**: busy while transmitting, while locked, or while the
//!   energy of the signals arriving exceeds `cca_threshold_dbm` (−62).
//! * **Noise**: `−174 dBm/Hz + 10 log10(bandwidth) + noise figure`.

use serde::Serialize;

use crate::{
    geo::SPEED_OF_LIGHT,
    scenario::{Modulation, RadioSpec, Standard},
};

pub(crate) mod error;

/// 802.11b long PLCP preamble \[ns\].
const DSSS_PREAMBLE: u64 = 144_000;
/// 802.11b long PLCP header (48 bits at 1 Mb/s) \[ns\].
const DSSS_HEADER: u64 = 48_000;

/// Modulation and rate of a frame's payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// 802.11b 1 Mb/s.
    Dbpsk1,
    /// 802.11b 2 Mb/s.
    Dqpsk2,
    /// 802.11b 5.5 Mb/s.
    Cck55,
    /// 802.11b 11 Mb/s.
    Cck11,
    /// A generic modulation at `rate` bits per second over `bandwidth` Hz.
    Generic {
        /// Modulation.
        modulation: Modulation,
        /// Bit rate \[b/s\].
        rate: f64,
        /// Noise bandwidth \[Hz\].
        bandwidth: f64,
    },
}

impl Mode {
    fn dsss(rate_mbps: f64) -> Mode {
        match rate_mbps {
            r if r <= 1.0 => Mode::Dbpsk1,
            r if r <= 2.0 => Mode::Dqpsk2,
            r if r <= 5.5 => Mode::Cck55,
            _ => Mode::Cck11,
        }
    }

    /// Bit rate \[b/s\].
    pub(crate) fn rate(self) -> f64 {
        match self {
            Mode::Dbpsk1 => 1e6,
            Mode::Dqpsk2 => 2e6,
            Mode::Cck55 => 5.5e6,
            Mode::Cck11 => 11e6,
            Mode::Generic { rate, .. } => rate,
        }
    }

    /// Probability that `bits` bits at this mode survive at `sinr` (linear).
    pub(crate) fn success(self, sinr: f64, bits: f64) -> f64 {
        match self {
            Mode::Dbpsk1 => error::survive(error::dbpsk_ber(sinr), bits),
            Mode::Dqpsk2 => error::survive(error::dqpsk_ber(sinr), bits),
            Mode::Cck55 => error::cck55_success(sinr, bits),
            Mode::Cck11 => error::cck11_success(sinr, bits),
            Mode::Generic {
                modulation,
                rate,
                bandwidth,
            } => {
                let eb_n0 = sinr * bandwidth / rate;
                let ber = match modulation {
                    Modulation::Bpsk | Modulation::Qpsk => error::psk_ber(eb_n0),
                    Modulation::Qam16 => error::qam16_ber(eb_n0),
                };
                error::survive(ber, bits)
            }
        }
    }
}

/// A compiled radio profile: everything the PHY needs, in linear units.
#[derive(Debug, Clone)]
pub(crate) struct Radio {
    pub(crate) standard: Standard,
    /// Mode of unicast data frames.
    pub(crate) data: Mode,
    /// Mode of broadcast frames and ACKs.
    pub(crate) basic: Mode,
    /// Mode of the PLCP header.
    header_mode: Mode,
    /// Transmit power plus antenna gain \[dBm\].
    pub(crate) tx_dbm: f64,
    /// Receive antenna gain \[dBi\].
    pub(crate) rx_gain_db: f64,
    /// Carrier frequency \[Hz\] (radios on different frequencies do not hear each other).
    pub(crate) frequency: f64,
    /// Wavelength \[m\].
    pub(crate) lambda: f64,
    /// Thermal noise power \[mW\].
    pub(crate) noise_mw: f64,
    /// Preamble-detection RSSI floor \[mW\].
    pub(crate) pd_rssi_mw: f64,
    /// Preamble-detection RSSI floor \[dBm\].
    pub(crate) pd_rssi_dbm: f64,
    /// Preamble-detection SNR threshold (linear).
    pub(crate) pd_snr: f64,
    /// CCA energy-detection threshold \[mW\].
    pub(crate) cca_mw: f64,
    /// CCA energy-detection threshold \[dBm\].
    pub(crate) cca_dbm: f64,
    /// Preamble duration (not subject to errors) \[ns\].
    preamble: u64,
    /// Header duration \[ns\].
    header: u64,
    /// Default slot time \[ns\].
    pub(crate) slot: u64,
    /// Default SIFS \[ns\].
    pub(crate) sifs: u64,
}

/// dBm to milliwatts.
pub(crate) fn mw(dbm: f64) -> f64 {
    10f64.powf(dbm / 10.0)
}

impl Radio {
    /// Compiles a radio profile.
    pub(crate) fn new(spec: &RadioSpec) -> Radio {
        let bandwidth = spec.bandwidth_hz.unwrap_or(match spec.standard {
            Standard::Dot11b => 22e6,
            Standard::Generic => 1e6,
        });
        let basic_rate = spec.basic_rate_mbps.unwrap_or(spec.rate_mbps);
        let generic = |r: f64| Mode::Generic {
            modulation: spec.modulation,
            rate: r * 1e6,
            bandwidth,
        };
        let (data, basic, header_mode, preamble, header, slot, sifs) = match spec.standard {
            Standard::Dot11b => (
                Mode::dsss(spec.rate_mbps),
                Mode::dsss(basic_rate),
                Mode::Dbpsk1,
                DSSS_PREAMBLE,
                DSSS_HEADER,
                20_000,
                10_000,
            ),
            Standard::Generic => (
                generic(spec.rate_mbps),
                generic(basic_rate),
                generic(basic_rate),
                spec.preamble.as_nanos(),
                0,
                20_000,
                10_000,
            ),
        };
        let noise_dbm = -174.0 + 10.0 * bandwidth.log10() + spec.noise_figure_db;
        Radio {
            standard: spec.standard,
            data,
            basic,
            header_mode,
            tx_dbm: spec.tx_power_dbm + spec.antenna_gain_dbi,
            rx_gain_db: spec.antenna_gain_dbi,
            frequency: spec.frequency_hz,
            lambda: SPEED_OF_LIGHT / spec.frequency_hz,
            noise_mw: mw(noise_dbm),
            pd_rssi_mw: mw(spec.preamble_min_rssi_dbm),
            pd_rssi_dbm: spec.preamble_min_rssi_dbm,
            pd_snr: 10f64.powf(spec.preamble_snr_db / 10.0),
            cca_mw: mw(spec.cca_threshold_dbm),
            cca_dbm: spec.cca_threshold_dbm,
            preamble,
            header,
            slot,
            sifs,
        }
    }

    /// Air time of a frame of `bytes` bytes at `mode` \[ns\]: preamble and
    /// header, plus the payload rounded up to the microsecond (802.11b) or
    /// nanosecond.
    pub(crate) fn duration(&self, mode: Mode, bytes: u32) -> u64 {
        let bits = f64::from(bytes) * 8.0;
        let payload = match self.standard {
            Standard::Dot11b => (bits / mode.rate() * 1e6).ceil() as u64 * 1000,
            Standard::Generic => (bits / mode.rate() * 1e9).ceil() as u64,
        };
        self.preamble + self.header + payload
    }

    /// Lowest received power worth an event at a receiver \[dBm\].
    pub(crate) fn detect_floor_dbm(&self) -> f64 {
        self.pd_rssi_dbm.min(self.cca_dbm)
    }

    /// Probability that a frame locked over `[start, end)` with signal power
    /// `signal_mw` survives, given interference pieces `(from, to, mw)`
    /// (unsorted, possibly overlapping the frame only partly).
    pub(crate) fn success_probability(
        &self,
        mode: Mode,
        start: u64,
        end: u64,
        signal_mw: f64,
        pieces: &[(u64, u64, f64)],
        scratch: &mut Vec<(u64, f64)>,
    ) -> f64 {
        // Interference change points within the frame.
        scratch.clear();
        let mut base = 0.0;
        for &(a, b, p) in pieces {
            if b <= start || a >= end {
                continue;
            }
            if a <= start {
                base += p;
            } else {
                scratch.push((a, p));
            }
            if b < end {
                scratch.push((b, -p));
            }
        }
        scratch.sort_by_key(|x| x.0);
        let hdr_from = start + self.preamble;
        let hdr_to = hdr_from + self.header;
        let mut ok = 1.0;
        let mut t = start;
        let mut interference = base;
        let chunk = |a: u64, b: u64, i_mw: f64| {
            if b <= a {
                return 1.0;
            }
            let sinr = signal_mw / (self.noise_mw + i_mw.max(0.0));
            let mut p = 1.0;
            let h = overlap(a, b, hdr_from, hdr_to);
            if h > 0 {
                p *= self
                    .header_mode
                    .success(sinr, h as f64 * 1e-9 * self.header_mode.rate());
            }
            let d = overlap(a, b, hdr_to, end);
            if d > 0 {
                p *= mode.success(sinr, d as f64 * 1e-9 * mode.rate());
            }
            p
        };
        for &(at, delta) in scratch.iter() {
            ok *= chunk(t, at, interference);
            interference += delta;
            t = at;
        }
        ok * chunk(t, end, interference)
    }
}

fn overlap(a: u64, b: u64, c: u64, d: u64) -> u64 {
    b.min(d).saturating_sub(a.max(c))
}

/// Observable state of a node's PHY process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhyState {
    /// Nothing heard above the CCA threshold, not locked, not transmitting.
    Idle,
    /// Energy above the CCA threshold, but not locked on a frame.
    CcaBusy,
    /// Locked on a frame.
    Rx,
    /// Transmitting.
    Tx,
}

/// The frame a receiver is locked on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lock {
    /// Transmission id.
    pub(crate) tx: u64,
    /// Arrival of the first bit here \[ns\].
    pub(crate) start: u64,
    /// Arrival of the last bit here \[ns\].
    pub(crate) end: u64,
    /// Received power \[mW\].
    pub(crate) power_mw: f64,
}

/// One node's PHY process.
#[derive(Debug, Clone)]
pub(crate) struct Phy {
    /// Index of the node's radio profile.
    pub(crate) radio: usize,
    pub(crate) lock: Option<Lock>,
    /// Signals arriving here above the filter floor: (tx id, power mW, end ns).
    arriving: Vec<(u64, f64, u64)>,
    transmitting: bool,
    /// The busy/idle state last reported to the MAC.
    reported_busy: bool,
}

impl Phy {
    pub(crate) fn new(radio: usize) -> Phy {
        Phy {
            radio,
            lock: None,
            arriving: Vec::new(),
            transmitting: false,
            reported_busy: false,
        }
    }

    /// Current state at `now` \[ns\].
    pub(crate) fn state(&self, r: &Radio, now: u64) -> PhyState {
        if self.transmitting {
            PhyState::Tx
        } else if self.lock.is_some() {
            PhyState::Rx
        } else if self.energy_mw(now) >= r.cca_mw {
            PhyState::CcaBusy
        } else {
            PhyState::Idle
        }
    }

    /// Power of the signals arriving at `now` \[mW\].
    pub(crate) fn energy_mw(&self, now: u64) -> f64 {
        self.arriving
            .iter()
            .filter(|s| s.2 > now)
            .map(|s| s.1)
            .sum()
    }

    /// Whether a new frame could be locked on now.
    pub(crate) fn can_lock(&self) -> bool {
        !self.transmitting && self.lock.is_none()
    }

    /// A signal starts arriving until `end`; `lock` says whether preamble
    /// detection succeeded (decided by the caller, who knows the
    /// interference).
    pub(crate) fn signal_start(&mut self, tx: u64, power_mw: f64, end: u64, lock: Option<Lock>) {
        self.arriving.push((tx, power_mw, end));
        if let Some(l) = lock {
            debug_assert!(self.can_lock());
            self.lock = Some(l);
        }
    }

    /// A signal ends; returns the lock if it was the frame being received.
    pub(crate) fn signal_end(&mut self, tx: u64) -> Option<Lock> {
        if let Some(i) = self.arriving.iter().position(|s| s.0 == tx) {
            self.arriving.swap_remove(i);
        }
        match self.lock {
            Some(l) if l.tx == tx => self.lock.take(),
            _ => None,
        }
    }

    /// Starts transmitting; a frame being received is lost.
    pub(crate) fn start_tx(&mut self) -> Option<Lock> {
        self.transmitting = true;
        self.lock.take()
    }

    /// Stops transmitting.
    pub(crate) fn end_tx(&mut self) {
        self.transmitting = false;
    }

    /// The carrier-sense edge since the last call, if any: `Some(true)` when
    /// the medium became busy, `Some(false)` when it became idle. Also
    /// forgets signals that have ended.
    pub(crate) fn cca_edge(&mut self, r: &Radio, now: u64) -> Option<bool> {
        self.arriving.retain(|s| s.2 > now);
        let busy = self.state(r, now) != PhyState::Idle;
        (busy != self.reported_busy).then(|| {
            self.reported_busy = busy;
            busy
        })
    }
}

#[cfg(test)]
mod tests;
