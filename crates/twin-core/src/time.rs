//! Simulation time as integer nanoseconds.
//!
//! [`SimTime`] is an instant on the federation's time axis, counted from the
//! scenario epoch; [`SimDuration`] is a non-negative span. Both are `u64`
//! nanoseconds, which covers about 584 years. Arithmetic that could leave that
//! range is available in `checked_*` and `saturating_*` forms; the operator
//! forms (`+`, `-`, `*`) panic on overflow with a message naming the operands,
//! like `std::time::Instant` does.

use std::{
    fmt,
    ops::{Add, AddAssign, Mul, Sub},
    str::FromStr,
};

use serde::{Deserialize, Deserializer, Serialize};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulation time, in nanoseconds since the scenario epoch.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A non-negative span of simulation time, in nanoseconds.
///
/// Deserializes from an integer (nanoseconds) or from a string with a unit
/// such as `"100ms"`, `"1.5s"`, `"2min"`; serializes as integer nanoseconds.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SimDuration(u64);

/// Arithmetic on simulation time left the representable range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("simulation time overflow: {lhs} ns {op} {rhs} ns")]
pub struct TimeOverflow {
    /// Left operand [ns].
    pub lhs: u64,
    /// The operation, e.g. `+`.
    pub op: &'static str,
    /// Right operand [ns].
    pub rhs: u64,
}

impl SimTime {
    /// The scenario epoch.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// A time `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch as `f64`, for display and plotting only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span since the epoch.
    pub const fn since_epoch(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// `self + d`, or an error if the result would overflow.
    pub fn checked_add(self, d: SimDuration) -> Result<SimTime, TimeOverflow> {
        self.0.checked_add(d.0).map(SimTime).ok_or(TimeOverflow {
            lhs: self.0,
            op: "+",
            rhs: d.0,
        })
    }

    /// `self + d`, clamped at [`SimTime::MAX`].
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// The span from `earlier` to `self`, or `None` if `earlier` is later.
    pub const fn checked_duration_since(self, earlier: SimTime) -> Option<SimDuration> {
        match self.0.checked_sub(earlier.0) {
            Some(n) => Some(SimDuration(n)),
            None => None,
        }
    }

    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// Zero length.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The largest representable span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }
    /// A span of `micros` microseconds (saturating).
    pub const fn from_micros(micros: u64) -> Self {
        SimDuration(micros.saturating_mul(1_000))
    }
    /// A span of `millis` milliseconds (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis.saturating_mul(1_000_000))
    }
    /// A span of `secs` seconds (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// A span from floating-point seconds, rounded to the nearest nanosecond.
    /// `None` for negative, non-finite or too large values.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        let nanos = (secs * NANOS_PER_SEC as f64).round();
        (secs.is_finite() && nanos >= 0.0 && nanos < u64::MAX as f64)
            .then_some(SimDuration(nanos as u64))
    }

    /// Nanoseconds in this span.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds as `f64`, for display and rate computations only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// True for the zero span.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// `self + rhs`, or an error on overflow.
    pub fn checked_add(self, rhs: SimDuration) -> Result<SimDuration, TimeOverflow> {
        self.0
            .checked_add(rhs.0)
            .map(SimDuration)
            .ok_or(TimeOverflow {
                lhs: self.0,
                op: "+",
                rhs: rhs.0,
            })
    }
    /// `self * k`, or an error on overflow.
    pub fn checked_mul(self, k: u64) -> Result<SimDuration, TimeOverflow> {
        self.0.checked_mul(k).map(SimDuration).ok_or(TimeOverflow {
            lhs: self.0,
            op: "*",
            rhs: k,
        })
    }
    /// The wall-clock equivalent at pacing ratio 1.
    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        self.checked_add(rhs).unwrap_or_else(|e| panic!("{e}"))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.checked_duration_since(rhs).unwrap_or_else(|| {
            panic!(
                "{}",
                TimeOverflow {
                    lhs: self.0,
                    op: "-",
                    rhs: rhs.0
                }
            )
        })
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        self.checked_add(rhs).unwrap_or_else(|e| panic!("{e}"))
    }
}
impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    fn mul(self, k: u64) -> SimDuration {
        self.checked_mul(k).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09} s",
            self.0 / NANOS_PER_SEC,
            self.0 % NANOS_PER_SEC
        )
    }
}
impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimTime({self})")
    }
}
impl fmt::Display for SimDuration {
    /// Shortest exact form with a unit: `100ms`, `1.5s`, `250ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n >= NANOS_PER_SEC || n == 0 {
            let frac = format!("{:09}", n % NANOS_PER_SEC);
            let frac = frac.trim_end_matches('0');
            let dot = if frac.is_empty() { "" } else { "." };
            write!(f, "{}{dot}{frac}s", n / NANOS_PER_SEC)
        } else if n % 1_000_000 == 0 {
            write!(f, "{}ms", n / 1_000_000)
        } else if n % 1_000 == 0 {
            write!(f, "{}us", n / 1_000)
        } else {
            write!(f, "{n}ns")
        }
    }
}
impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimDuration({self})")
    }
}

/// A duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDurationError {
    /// The text was empty.
    #[error("empty duration")]
    Empty,
    /// The value was negative; simulation durations are never negative.
    #[error("negative duration `{0}`: durations must be zero or positive")]
    Negative(String),
    /// No unit, or an unknown one.
    #[error("duration `{0}` needs a unit: ns, us, ms, s, min, h or d (e.g. `100ms`)")]
    BadUnit(String),
    /// The number part is not a decimal number.
    #[error("duration `{0}` does not start with a number")]
    BadNumber(String),
    /// The value does not fit in 64-bit nanoseconds or is finer than 1 ns.
    #[error("duration `{0}` is out of range (0 .. ~584 years, resolution 1 ns)")]
    OutOfRange(String),
}

impl FromStr for SimDuration {
    type Err = ParseDurationError;

    /// Parses `<decimal><unit>` with unit `ns`, `us`/`µs`, `ms`, `s`, `min`,
    /// `h` or `d`, e.g. `"100ms"`, `"1.5 s"`. Exact: no floating point.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ParseDurationError::Empty);
        }
        if t.starts_with('-') {
            return Err(ParseDurationError::Negative(s.to_owned()));
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = (&t[..split], t[split..].trim());
        let scale: u64 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "min" => 60 * NANOS_PER_SEC,
            "h" => 3_600 * NANOS_PER_SEC,
            "d" => 86_400 * NANOS_PER_SEC,
            _ => return Err(ParseDurationError::BadUnit(s.to_owned())),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() || frac.contains('.') {
            return Err(ParseDurationError::BadNumber(s.to_owned()));
        }
        let range = || ParseDurationError::OutOfRange(s.to_owned());
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| range())?
        };
        let mut nanos = int.checked_mul(scale).ok_or_else(range)?;
        // Fractional digits, exactly: each digit contributes digit * scale / 10^k.
        let mut place = scale;
        for c in frac.chars() {
            let d = c
                .to_digit(10)
                .ok_or_else(|| ParseDurationError::BadNumber(s.to_owned()))?;
            if place % 10 != 0 && d != 0 {
                return Err(range());
            }
            place /= 10;
            nanos = nanos.checked_add(u64::from(d) * place).ok_or_else(range)?;
        }
        Ok(SimDuration(nanos))
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        // Binary formats (CDR on the DDS bus) carry the integer only.
        if !de.is_human_readable() {
            return u64::deserialize(de).map(SimDuration);
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Nanos(u64),
            Signed(i64),
            Text(String),
        }
        match Repr::deserialize(de)? {
            Repr::Nanos(n) => Ok(SimDuration(n)),
            Repr::Signed(n) => Err(serde::de::Error::custom(ParseDurationError::Negative(
                n.to_string(),
            ))),
            Repr::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests;
