//! Calendar presentation of simulation time.
//!
//! A scenario may fix an absolute [`Epoch`] (a UTC instant). Simulation time
//! is then presented as ISO 8601 (`2026-03-01T12:00:00.250Z`) or in the
//! day-of-year form `YYYYDDD.HHMMSS` used by range and flight software
//! (`2026060.120000`). UTC here is proleptic Gregorian without leap seconds,
//! the same convention as POSIX time.
//!
//! Civil-date conversion uses the days-from-civil algorithm described by
//! H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" (2013).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SimTime;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i128 = 86_400;

/// The UTC instant at which simulation time is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch {
    /// Nanoseconds since 1970-01-01T00:00:00Z (may be negative).
    unix_nanos: i128,
}

/// A broken-down UTC date and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    /// Gregorian year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31.
    pub day: u32,
    /// Day of year, 1–366.
    pub day_of_year: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// An epoch string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid epoch `{text}`: {reason} (expected e.g. `2026-03-01T12:00:00Z` or `2026060.120000`)"
)]
pub struct CalendarError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Epoch {
    /// The POSIX epoch, 1970-01-01T00:00:00Z.
    pub const UNIX: Epoch = Epoch { unix_nanos: 0 };

    /// An epoch at `nanos` nanoseconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix_nanos(nanos: i128) -> Self {
        Epoch { unix_nanos: nanos }
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub const fn unix_nanos(self) -> i128 {
        self.unix_nanos
    }

    /// The epoch at a civil UTC date and time; `None` if a field is out of range.
    pub fn from_civil(year: i32, month: u32, day: u32, h: u32, min: u32, s: u32) -> Option<Self> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(i64::from(year), month)
            && h < 24
            && min < 60
            && s < 60;
        valid.then(|| {
            let days = i128::from(days_from_civil(i64::from(year), month, day));
            let secs = days * SECS_PER_DAY + i128::from(h * 3600 + min * 60 + s);
            Epoch {
                unix_nanos: secs * NANOS_PER_SEC,
            }
        })
    }

    /// The calendar time of simulation instant `t`.
    pub fn civil(self, t: SimTime) -> CivilTime {
        let total = self.unix_nanos + i128::from(t.as_nanos());
        let secs = total.div_euclid(NANOS_PER_SEC);
        let nanos = total.rem_euclid(NANOS_PER_SEC) as u32;
        let days = secs.div_euclid(SECS_PER_DAY) as i64;
        let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        let day_of_year = (days - days_from_civil(year, 1, 1)) as u32 + 1;
        CivilTime {
            year: year as i32,
            month,
            day,
            day_of_year,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            nanos,
        }
    }

    /// ISO 8601 UTC form of `t`, with milliseconds: `2026-03-01T12:00:00.250Z`.
    pub fn iso8601(self, t: SimTime) -> String {
        let c = self.civil(t);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1_000_000
        )
    }

    /// Day-of-year form of `t`, truncated to the second: `YYYYDDD.HHMMSS`.
    pub fn yyyyddd_hhmmss(self, t: SimTime) -> String {
        let c = self.civil(t);
        format!(
            "{:04}{:03}.{:02}{:02}{:02}",
            c.year, c.day_of_year, c.hour, c.minute, c.second
        )
    }

    /// Simulation time at the UTC instant `unix_nanos`; `None` before the epoch.
    pub fn sim_time_at(self, unix_nanos: i128) -> Option<SimTime> {
        u64::try_from(unix_nanos - self.unix_nanos)
            .ok()
            .map(SimTime::from_nanos)
    }
}

fn digits(s: &str, text: &str, what: &'static str) -> Result<u32, CalendarError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CalendarError {
            text: text.to_owned(),
            reason: what,
        });
    }
    s.parse().map_err(|_| CalendarError {
        text: text.to_owned(),
        reason: what,
    })
}

impl FromStr for Epoch {
    type Err = CalendarError;

    /// Accepts ISO 8601 UTC (`YYYY-MM-DDTHH:MM:SS[.fff]Z`, `Z` may be
    /// `+00:00`, the `T` may be a space) or `YYYYDDD.HHMMSS`.
    fn from_str(text: &str) -> Result<Self, CalendarError> {
        let s = text.trim();
        let err = |reason| CalendarError {
            text: text.to_owned(),
            reason,
        };
        if s.len() == 14 && s.as_bytes()[7] == b'.' {
            let year = digits(&s[0..4], text, "bad year")?;
            let doy = digits(&s[4..7], text, "bad day of year")?;
            let (h, mi, se) = (
                digits(&s[8..10], text, "bad hour")?,
                digits(&s[10..12], text, "bad minute")?,
                digits(&s[12..14], text, "bad second")?,
            );
            let days_in_year = if is_leap(i64::from(year)) { 366 } else { 365 };
            if doy == 0 || doy > days_in_year {
                return Err(err("day of year out of range"));
            }
            let start = Epoch::from_civil(year as i32, 1, 1, h, mi, se)
                .ok_or_else(|| err("time of day out of range"))?;
            return Ok(Epoch {
                unix_nanos: start.unix_nanos + i128::from(doy - 1) * SECS_PER_DAY * NANOS_PER_SEC,
            });
        }
        let body = s
            .strip_suffix('Z')
            .or_else(|| s.strip_suffix("+00:00"))
            .ok_or_else(|| err("only UTC (`Z` or `+00:00`) is accepted"))?;
        let (date, time) = body
            .split_once(['T', ' '])
            .ok_or_else(|| err("missing `T` between date and time"))?;
        let mut d = date.split('-');
        let (y, m, dd) = (d.next(), d.next(), d.next());
        let (Some(y), Some(m), Some(dd), None) = (y, m, dd, d.next()) else {
            return Err(err("date must be YYYY-MM-DD"));
        };
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut t = hms.split(':');
        let (Some(h), Some(mi), Some(se), None) = (t.next(), t.next(), t.next(), t.next()) else {
            return Err(err("time must be HH:MM:SS"));
        };
        let base = Epoch::from_civil(
            digits(y, text, "bad year")? as i32,
            digits(m, text, "bad month")?,
            digits(dd, text, "bad day")?,
            digits(h, text, "bad hour")?,
            digits(mi, text, "bad minute")?,
            digits(se, text, "bad second")?,
        )
        .ok_or_else(|| err("a date or time field is out of range"))?;
        let mut nanos = 0i128;
        if !frac.is_empty() {
            if frac.len() > 9 {
                return Err(err("more than 9 fractional digits"));
            }
            let f = digits(frac, text, "bad fraction of second")?;
            nanos = i128::from(f) * 10i128.pow(9 - frac.len() as u32);
        }
        Ok(Epoch {
            unix_nanos: base.unix_nanos + nanos,
        })
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso8601(SimTime::ZERO))
    }
}

impl Serialize for Epoch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Epoch {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimDuration;

    #[test]
    fn iso_and_day_of_year_agree() {
        let e: Epoch = "2024-02-28T23:59:59.500Z".parse().unwrap();
        let t = SimTime::ZERO + SimDuration::from_millis(500) + SimDuration::from_secs(86_400);
        // 2024 is a leap year: one day after Feb 28 is Feb 29, day 60.
        assert_eq!(e.iso8601(t), "2024-03-01T00:00:00.000Z");
        assert_eq!(e.yyyyddd_hhmmss(SimTime::ZERO), "2024059.235959");
        let e2: Epoch = "2024059.235959".parse().unwrap();
        assert_eq!(e2.unix_nanos() + 500_000_000, e.unix_nanos());
    }

    #[test]
    fn unix_epoch_and_known_date() {
        assert_eq!(
            Epoch::UNIX.iso8601(SimTime::ZERO),
            "1970-01-01T00:00:00.000Z"
        );
        let e: Epoch = "2000-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(e.unix_nanos(), 946_684_800 * 1_000_000_000);
        assert_eq!(e.civil(SimTime::ZERO).day_of_year, 1);
        assert_eq!(
            e.sim_time_at(e.unix_nanos() + 7),
            Some(SimTime::from_nanos(7))
        );
        assert_eq!(e.sim_time_at(e.unix_nanos() - 1), None);
    }

    #[test]
    fn rejects_malformed_epochs() {
        for bad in [
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T00:00:00+02:00",
            "2023366.000000",
            "2024-01-01",
            "garbage",
        ] {
            assert!(bad.parse::<Epoch>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn round_trip_many_days() {
        for days in (-800_000i64..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
