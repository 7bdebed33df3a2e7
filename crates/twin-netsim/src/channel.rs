//! The shared wireless channel: transmissions on the air and the spatial
//! index that finds who may hear them.
//!
//! * **On the air.** Every transmission is kept (with its transmitter's
//!   position at the start) until no reception could still overlap it.
//!   Receivers compute interference from this list on demand, so a
//!   transmission costs events only at receivers above the filter floor,
//!   yet interferes everywhere.
//! * **Spatial index.** A uniform grid of cubic cells, rebuilt from current
//!   positions when nodes may have moved more than a quarter cell since the
//!   last build. A query widens its radius by `max speed × age`, so it never
//!   misses a node (the filter is conservative); exact powers are computed
//!   afterwards for the candidates only.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::{
    geo::{Vec3, SPEED_OF_LIGHT},
    mobility::Position,
    packet::Frame,
    phy::Mode,
    propagation::Propagation,
};

/// A frame on the air.
#[derive(Debug, Clone)]
pub(crate) struct Transmission {
    pub(crate) src: u32,
    pub(crate) pos: Position,
    /// First bit leaves the antenna \[ns\].
    pub(crate) start: u64,
    /// Last bit leaves the antenna \[ns\].
    pub(crate) end: u64,
    /// Transmit power plus antenna gain \[dBm\].
    pub(crate) tx_dbm: f64,
    pub(crate) frequency: f64,
    pub(crate) lambda: f64,
    pub(crate) mode: Mode,
    pub(crate) frame: Frame,
}

/// The channel.
#[derive(Debug)]
pub(crate) struct Channel {
    on_air: VecDeque<Transmission>,
    /// Id of `on_air[0]`.
    base: u64,
    /// Longest frame so far \[ns\].
    max_frame: u64,
    /// Longest propagation delay that still matters \[ns\].
    max_delay: u64,
    /// Distance beyond which interference is ignored \[m\].
    interference_range: f64,
    pub(crate) grid: Grid,
}

impl Channel {
    pub(crate) fn new(interference_range: f64, cell: f64) -> Channel {
        Channel {
            on_air: VecDeque::new(),
            base: 0,
            max_frame: 0,
            max_delay: (interference_range / SPEED_OF_LIGHT * 1e9).ceil() as u64,
            interference_range,
            grid: Grid::new(cell),
        }
    }

    /// Adds a transmission; returns its id.
    pub(crate) fn push(&mut self, t: Transmission, now: u64) -> u64 {
        self.prune(now);
        self.max_frame = self.max_frame.max(t.end - t.start);
        self.on_air.push_back(t);
        self.base + self.on_air.len() as u64 - 1
    }

    /// The transmission with id `id`, if still kept.
    pub(crate) fn get(&self, id: u64) -> Option<&Transmission> {
        id.checked_sub(self.base)
            .and_then(|i| self.on_air.get(i as usize))
    }

    /// Forgets transmissions no reception can overlap any more.
    fn prune(&mut self, now: u64) {
        let keep = self.max_frame + self.max_delay + 1;
        while let Some(front) = self.on_air.front() {
            if front.end + keep >= now {
                break;
            }
            self.on_air.pop_front();
            self.base += 1;
        }
    }

    /// Interference at a receiver at `rx_pos` over `[from, to)`: pieces
    /// `(arrival start, arrival end, power mW)` of every transmission but
    /// `exclude` and the receiver's own, on `frequency`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn interference(
        &self,
        prop: &Propagation,
        rx: u32,
        rx_pos: &Position,
        rx_gain_db: f64,
        frequency: f64,
        from: u64,
        to: u64,
        exclude: u64,
        out: &mut Vec<(u64, u64, f64)>,
    ) {
        out.clear();
        let limit2 = self.interference_range * self.interference_range;
        for (i, t) in self.on_air.iter().enumerate() {
            if self.base + i as u64 == exclude || t.src == rx || t.frequency != frequency {
                continue;
            }
            // Cheap rejections before the path loss.
            if t.end + self.max_delay <= from || t.start >= to {
                continue;
            }
            let d2 = (t.pos.xyz - rx_pos.xyz).norm2();
            if d2 > limit2 {
                continue;
            }
            let d = d2.sqrt();
            let delay = Propagation::delay(d).as_nanos();
            let (a, b) = (t.start + delay, t.end + delay);
            if b <= from || a >= to || !prop.line_of_sight(d, &t.pos, rx_pos) {
                continue;
            }
            let loss = prop.loss_db(d, t.lambda, t.pos.alt, rx_pos.alt);
            out.push((a, b, crate::phy::mw(t.tx_dbm + rx_gain_db - loss)));
        }
    }
}

/// Grid cell coordinates.
type Cell = (i32, i32, i32);

/// A uniform grid over node positions.
#[derive(Debug)]
pub(crate) struct Grid {
    cell: f64,
    cells: FxHashMap<Cell, Vec<u32>>,
    /// Position of each node when indexed.
    indexed: Vec<Vec3>,
    built_at: u64,
    /// Largest speed of any node \[m·s⁻¹\].
    pub(crate) max_speed: f64,
}

impl Grid {
    fn new(cell: f64) -> Grid {
        Grid {
            cell: cell.max(1.0),
            cells: FxHashMap::default(),
            indexed: Vec::new(),
            built_at: 0,
            max_speed: 0.0,
        }
    }

    fn key(&self, p: Vec3) -> Cell {
        let c = self.cell;
        (
            (p.x / c).floor() as i32,
            (p.y / c).floor() as i32,
            (p.z / c).floor() as i32,
        )
    }

    /// How far nodes may have moved since the last build \[m\].
    fn slack(&self, now: u64) -> f64 {
        self.max_speed * now.saturating_sub(self.built_at) as f64 * 1e-9
    }

    /// Whether the index should be rebuilt before a query at `now`.
    pub(crate) fn stale(&self, now: u64) -> bool {
        self.indexed.is_empty() || self.slack(now) > 0.25 * self.cell
    }

    /// Rebuilds the index from `positions` (node id = index).
    pub(crate) fn rebuild(&mut self, now: u64, positions: impl Iterator<Item = Vec3>) {
        self.cells.clear();
        self.indexed.clear();
        for (i, p) in positions.enumerate() {
            self.indexed.push(p);
            self.cells.entry(self.key(p)).or_default().push(i as u32);
        }
        self.built_at = now;
    }

    /// Moves one node in the index (external position updates).
    pub(crate) fn update(&mut self, node: u32, p: Vec3) {
        let Some(old) = self.indexed.get(node as usize).copied() else {
            return;
        };
        let (ko, kn) = (self.key(old), self.key(p));
        if ko != kn {
            if let Some(v) = self.cells.get_mut(&ko) {
                v.retain(|&n| n != node);
            }
            self.cells.entry(kn).or_default().push(node);
        }
        self.indexed[node as usize] = p;
    }

    /// Node ids that may lie within `radius` of `center` now, sorted.
    pub(crate) fn query(&self, center: Vec3, radius: f64, now: u64, out: &mut Vec<u32>) {
        out.clear();
        let r = radius + self.slack(now);
        let r2 = r * r;
        let (lo, hi) = (
            self.key(center - Vec3::new(r, r, r)),
            self.key(center + Vec3::new(r, r, r)),
        );
        let span = (i64::from(hi.0 - lo.0) + 1)
            * (i64::from(hi.1 - lo.1) + 1)
            * (i64::from(hi.2 - lo.2) + 1);
        if span as usize > self.cells.len() {
            // Fewer occupied cells than cells in range: scan them all.
            for v in self.cells.values() {
                out.extend(
                    v.iter()
                        .filter(|&&n| (self.indexed[n as usize] - center).norm2() <= r2),
                );
            }
        } else {
            for x in lo.0..=hi.0 {
                for y in lo.1..=hi.1 {
                    for z in lo.2..=hi.2 {
                        if let Some(v) = self.cells.get(&(x, y, z)) {
                            out.extend(
                                v.iter().filter(|&&n| {
                                    (self.indexed[n as usize] - center).norm2() <= r2
                                }),
                            );
                        }
                    }
                }
            }
        }
        out.sort_unstable();
    }
}

#[cfg(test)]
mod tests;
