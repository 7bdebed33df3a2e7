//! Shared vocabulary of the Twin workspace: simulation time, ids and units.
//!
//! Everything that crosses a component boundary is typed here:
//!
//! * [`SimTime`] and [`SimDuration`] are integer nanoseconds, so that event
//!   ordering is exact and reproducible on every machine (no `f64` time).
//! * [`Epoch`] maps simulation time to calendar time (ISO 8601 and the
//!   `YYYYDDD.HHMMSS` day-of-year form used by flight and range software).
//! * Ids ([`MemberId`], [`NodeId`], [`RegionId`]) are small `Copy` newtypes.
//! * Unit newtypes ([`Meters`], [`MetersPerSecond`], [`Hertz`], [`Dbm`],
//!   [`Degrees`]) make the unit part of the type wherever mixing would be easy.
//!
//! ```
//! use twin_core::{SimDuration, SimTime};
//! let dt: SimDuration = "100ms".parse().unwrap();
//! let t = SimTime::ZERO + dt * 3;
//! assert_eq!(t.as_nanos(), 300_000_000);
//! assert_eq!(t.to_string(), "0.300000000 s");
//! ```

mod calendar;
mod ids;
mod time;
mod units;

pub use calendar::{CalendarError, CivilTime, Epoch};
pub use ids::{MemberId, NodeId, RegionId};
pub use time::{ParseDurationError, SimDuration, SimTime, TimeOverflow};
pub use units::{Dbm, Degrees, Hertz, Meters, MetersPerSecond, Seconds};
