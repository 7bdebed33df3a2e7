//! Semantic checks of a deserialised scenario: ranges, references between
//! sections, and settings that do not fit the coordinate frame.
//!
//! Serde already rejected unknown keys, unknown variants (protocols,
//! models, standards), missing fields and wrong types. What is left:
//!
//! | section | rule | kind |
//! |---|---|---|
//! | `simulation` | non-empty name, duration > 0 | range |
//! | `propagation` | finite values, exponent, distances, k and frequency > 0 | range |
//! | `radios` | at least one; 802.11b rates in {1, 2, 5.5, 11}; frequency, bandwidth > 0; generic preamble > 0 | range |
//! | `mac` | queue and retry limits ≥ 1, 1 ≤ cw_min ≤ cw_max, slot and range > 0 | range |
//! | `routing.*` | intervals > 0, TTLs within the diameter, willingness ≤ 7 | range |
//! | `nodes` | at least one; unique expanded names; count ≥ 1 | range, duplicate |
//! | `nodes[i].radio` | names a profile; may be omitted only if there is one | reference |
//! | `nodes[i].mobility` | boxes with min ≤ max, speeds 0 ≤ min ≤ max, max > 0, α in \[0, 1\], increasing waypoint times, ≥ 2 route points, WGS84 coordinates in range | range |
//! | `nodes[i].mobility.model` | line, random waypoint and Gauss-Markov need the local frame; flight plans need wgs84 | incompatible |
//! | `flows[i]` | src and dst name nodes and differ; rate finite > 0; 1 ≤ size ≤ 65507; stop after start | reference, range |
//!
//! Every check pushes a [`Problem`] with the dotted path of the offending
//! field; the caller locates paths in the source text.

use std::collections::BTreeSet;

use super::{
    diag::Problem, AreaSpec, Frame, MobilitySpec, ProblemKind as K, RadioSpec, Scenario, Standard,
};

/// Data rates an 802.11b radio supports \[Mb/s\].
pub(crate) const DOT11B_RATES: [f64; 4] = [1.0, 2.0, 5.5, 11.0];

/// Collects every problem of `s`.
pub(super) fn check(s: &Scenario) -> Vec<Problem> {
    let mut p = Vec::new();
    if s.simulation.name.trim().is_empty() {
        p.push(Problem::new(
            "simulation.name",
            K::Range,
            "must not be empty",
        ));
    }
    if s.simulation.duration.is_zero() {
        p.push(Problem::new("simulation.duration", K::Range, "must be > 0"));
    }
    check_propagation(s, &mut p);
    if s.radios.is_empty() {
        p.push(Problem::new(
            "radios",
            K::Range,
            "at least one radio profile is required",
        ));
    }
    for (name, r) in &s.radios {
        check_radio(&format!("radios.{name}"), r, &mut p);
    }
    check_mac(s, &mut p);
    s.routing.aodv.check("routing.aodv", &mut p);
    s.routing.olsr.check("routing.olsr", &mut p);
    s.routing.greedy.check("routing.greedy", &mut p);
    check_nodes(s, &mut p);
    check_flows(s, &mut p);
    check_probes(s, &mut p);
    p
}

/// Requires a finite number.
fn finite(p: &mut Vec<Problem>, path: &str, v: f64) {
    if !v.is_finite() {
        p.push(Problem::new(
            path,
            K::Range,
            format!("must be a finite number (got {v})"),
        ));
    }
}

/// Requires a finite number above zero.
fn positive(p: &mut Vec<Problem>, path: &str, v: f64) {
    if !(v.is_finite() && v > 0.0) {
        p.push(Problem::new(
            path,
            K::Range,
            format!("must be a finite number > 0 (got {v})"),
        ));
    }
}

/// Requires a finite number of at least zero.
fn non_negative(p: &mut Vec<Problem>, path: &str, v: f64) {
    if !(v.is_finite() && v >= 0.0) {
        p.push(Problem::new(
            path,
            K::Range,
            format!("must be a finite number >= 0 (got {v})"),
        ));
    }
}

/// Checks `[propagation]`.
fn check_propagation(s: &Scenario, p: &mut Vec<Problem>) {
    let g = &s.propagation;
    finite(p, "propagation.system_loss_db", g.system_loss_db);
    positive(p, "propagation.exponent", g.exponent);
    positive(
        p,
        "propagation.reference_distance_m",
        g.reference_distance_m,
    );
    finite(p, "propagation.reference_loss_db", g.reference_loss_db);
    non_negative(p, "propagation.antenna_height_m", g.antenna_height_m);
    positive(p, "propagation.k_factor", g.k_factor);
    non_negative(p, "propagation.filter_margin_db", g.filter_margin_db);
    if let Some(f) = g.frequency_hz {
        positive(p, "propagation.frequency_hz", f);
    }
}

/// Checks a data rate against what the standard supports.
fn check_rate(p: &mut Vec<Problem>, path: &str, std: Standard, rate: f64) {
    match std {
        Standard::Dot11b if !DOT11B_RATES.contains(&rate) => p.push(Problem::new(
            path,
            K::Range,
            format!("802.11b supports 1, 2, 5.5 and 11 Mb/s (got {rate})"),
        )),
        _ => positive(p, path, rate),
    }
}

/// Checks one `[radios.<name>]` profile.
fn check_radio(prefix: &str, r: &RadioSpec, p: &mut Vec<Problem>) {
    check_rate(p, &format!("{prefix}.rate_mbps"), r.standard, r.rate_mbps);
    if let Some(b) = r.basic_rate_mbps {
        check_rate(p, &format!("{prefix}.basic_rate_mbps"), r.standard, b);
    }
    finite(p, &format!("{prefix}.tx_power_dbm"), r.tx_power_dbm);
    finite(p, &format!("{prefix}.antenna_gain_dbi"), r.antenna_gain_dbi);
    positive(p, &format!("{prefix}.frequency_hz"), r.frequency_hz);
    if let Some(b) = r.bandwidth_hz {
        positive(p, &format!("{prefix}.bandwidth_hz"), b);
    }
    non_negative(p, &format!("{prefix}.noise_figure_db"), r.noise_figure_db);
    finite(
        p,
        &format!("{prefix}.preamble_min_rssi_dbm"),
        r.preamble_min_rssi_dbm,
    );
    finite(p, &format!("{prefix}.preamble_snr_db"), r.preamble_snr_db);
    finite(
        p,
        &format!("{prefix}.cca_threshold_dbm"),
        r.cca_threshold_dbm,
    );
    if r.standard == Standard::Generic && r.preamble.is_zero() {
        p.push(Problem::new(
            format!("{prefix}.preamble"),
            K::Range,
            "must be > 0",
        ));
    }
}

/// Checks `[mac]`.
fn check_mac(s: &Scenario, p: &mut Vec<Problem>) {
    let m = &s.mac;
    if m.queue_limit == 0 {
        p.push(Problem::new("mac.queue_limit", K::Range, "must be >= 1"));
    }
    if m.retry_limit == 0 {
        p.push(Problem::new("mac.retry_limit", K::Range, "must be >= 1"));
    }
    if m.cw_min == 0 || m.cw_min > m.cw_max {
        p.push(Problem::new(
            "mac.cw_min",
            K::Range,
            format!(
                "need 1 <= cw_min <= cw_max (got {} and {})",
                m.cw_min, m.cw_max
            ),
        ));
    }
    if let Some(r) = m.max_range_m {
        positive(p, "mac.max_range_m", r);
    }
    if m.tdma.slot.is_zero() {
        p.push(Problem::new("mac.tdma.slot", K::Range, "must be > 0"));
    }
    if m.tdma.guard.is_some_and(|g| g >= m.tdma.slot) {
        p.push(Problem::new(
            "mac.tdma.guard",
            K::Range,
            "must be shorter than the slot",
        ));
    }
    if m.arp.enabled && m.arp.wait_reply_timeout.is_zero() {
        p.push(Problem::new(
            "mac.arp.wait_reply_timeout",
            K::Range,
            "must be > 0",
        ));
    }
    if m.slot.is_some_and(|d| d.is_zero()) {
        p.push(Problem::new("mac.slot", K::Range, "must be > 0"));
    }
}

/// Checks a box: finite bounds, min ≤ max on every axis.
fn check_area(p: &mut Vec<Problem>, path: &str, a: &AreaSpec) {
    for i in 0..3 {
        if !(a.min[i].is_finite() && a.max[i].is_finite() && a.min[i] <= a.max[i]) {
            p.push(Problem::new(
                path,
                K::Range,
                format!(
                    "need finite min <= max on every axis (axis {i}: {} .. {})",
                    a.min[i], a.max[i]
                ),
            ));
            return;
        }
    }
}

/// Checks a `[min, max]` speed range.
fn check_speed_range(p: &mut Vec<Problem>, path: &str, r: [f64; 2]) {
    if !(r[0].is_finite() && r[1].is_finite() && r[0] >= 0.0 && r[0] <= r[1] && r[1] > 0.0) {
        p.push(Problem::new(
            path,
            K::Range,
            format!(
                "need 0 <= min <= max and max > 0 (got [{}, {}])",
                r[0], r[1]
            ),
        ));
    }
}

/// Checks coordinates in the scenario frame.
fn check_position(p: &mut Vec<Problem>, path: &str, frame: Frame, pos: [f64; 3]) {
    if pos.iter().any(|v| !v.is_finite()) {
        p.push(Problem::new(path, K::Range, "coordinates must be finite"));
    } else if frame == Frame::Wgs84 && (pos[0].abs() > 90.0 || pos[1].abs() > 180.0) {
        p.push(Problem::new(
            path,
            K::Range,
            format!(
                "[lat, lon, alt] out of range (got [{}, {}, {}])",
                pos[0], pos[1], pos[2]
            ),
        ));
    }
}

/// Checks one group's mobility parameters and frame compatibility.
fn check_mobility(p: &mut Vec<Problem>, prefix: &str, frame: Frame, m: &MobilitySpec) {
    let local_only = |p: &mut Vec<Problem>, model: &str| {
        if frame != Frame::Local {
            p.push(Problem::new(
                format!("{prefix}.model"),
                K::Incompatible,
                format!("model \"{model}\" needs simulation.frame = \"local\""),
            ));
        }
    };
    match m {
        MobilitySpec::Constant { position } | MobilitySpec::External { position } => {
            check_position(p, &format!("{prefix}.position"), frame, *position);
        }
        MobilitySpec::Ns2Trace { .. } => local_only(p, "ns2-trace"),
        MobilitySpec::Line { start, spacing } => {
            local_only(p, "line");
            check_position(p, &format!("{prefix}.start"), frame, *start);
            check_position(p, &format!("{prefix}.spacing"), frame, *spacing);
        }
        MobilitySpec::Waypoints { points } => {
            if points.is_empty() {
                p.push(Problem::new(
                    format!("{prefix}.points"),
                    K::Range,
                    "needs at least one point",
                ));
            }
            for (i, w) in points.iter().enumerate() {
                check_position(
                    p,
                    &format!("{prefix}.points[{i}].position"),
                    frame,
                    w.position,
                );
                if i > 0 && w.at < points[i - 1].at {
                    p.push(Problem::new(
                        format!("{prefix}.points[{i}].at"),
                        K::Range,
                        "waypoint times must not decrease",
                    ));
                }
            }
        }
        MobilitySpec::RandomWaypoint { area, speed, .. } => {
            local_only(p, "random-waypoint");
            check_area(p, &format!("{prefix}.area"), area);
            check_speed_range(p, &format!("{prefix}.speed"), *speed);
        }
        MobilitySpec::GaussMarkov {
            area,
            alpha,
            time_step,
            mean_speed,
            mean_pitch,
            speed_sd,
            heading_sd,
            pitch_sd,
        } => {
            local_only(p, "gauss-markov");
            check_area(p, &format!("{prefix}.area"), area);
            if !(0.0..=1.0).contains(alpha) {
                p.push(Problem::new(
                    format!("{prefix}.alpha"),
                    K::Range,
                    format!("must be in [0, 1] (got {alpha})"),
                ));
            }
            if time_step.is_zero() {
                p.push(Problem::new(
                    format!("{prefix}.time_step"),
                    K::Range,
                    "must be > 0",
                ));
            }
            check_speed_range(p, &format!("{prefix}.mean_speed"), *mean_speed);
            finite(p, &format!("{prefix}.mean_pitch"), *mean_pitch);
            non_negative(p, &format!("{prefix}.speed_sd"), *speed_sd);
            non_negative(p, &format!("{prefix}.heading_sd"), *heading_sd);
            non_negative(p, &format!("{prefix}.pitch_sd"), *pitch_sd);
        }
        MobilitySpec::FlightPlan {
            route,
            speed,
            climb_rate,
            ..
        } => {
            if frame != Frame::Wgs84 {
                p.push(Problem::new(
                    format!("{prefix}.model"),
                    K::Incompatible,
                    "model \"flight-plan\" needs simulation.frame = \"wgs84\"",
                ));
            }
            if route.len() < 2 {
                p.push(Problem::new(
                    format!("{prefix}.route"),
                    K::Range,
                    "needs at least two waypoints",
                ));
            }
            for (i, w) in route.iter().enumerate() {
                check_position(p, &format!("{prefix}.route[{i}]"), Frame::Wgs84, *w);
            }
            positive(p, &format!("{prefix}.speed"), *speed);
            positive(p, &format!("{prefix}.climb_rate"), *climb_rate);
        }
    }
}

/// Checks node groups: names, counts, radio references, mobility.
fn check_nodes(s: &Scenario, p: &mut Vec<Problem>) {
    if s.nodes.is_empty() {
        p.push(Problem::new(
            "nodes",
            K::Range,
            "at least one node is required",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, g) in s.nodes.iter().enumerate() {
        let prefix = format!("nodes[{i}]");
        if g.name.trim().is_empty() {
            p.push(Problem::new(
                format!("{prefix}.name"),
                K::Range,
                "must not be empty",
            ));
        }
        if g.count == Some(0) {
            p.push(Problem::new(
                format!("{prefix}.count"),
                K::Range,
                "must be >= 1",
            ));
        }
        let names: Vec<String> = match g.count {
            None => vec![g.name.clone()],
            Some(n) => (0..n).map(|k| format!("{}{k}", g.name)).collect(),
        };
        for n in names {
            if !seen.insert(n.clone()) {
                p.push(Problem::new(
                    format!("{prefix}.name"),
                    K::Duplicate,
                    format!("node name \"{n}\" is defined twice"),
                ));
                break;
            }
        }
        match &g.radio {
            Some(r) if !s.radios.contains_key(r) => p.push(Problem::new(
                format!("{prefix}.radio"),
                K::Reference,
                format!(
                    "no radio profile \"{r}\" (defined: {})",
                    s.radios.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )),
            None if s.radios.len() > 1 => p.push(Problem::new(
                format!("{prefix}.radio"),
                K::Reference,
                "several radio profiles exist: name one",
            )),
            _ => {}
        }
        check_mobility(
            p,
            &format!("{prefix}.mobility"),
            s.simulation.frame,
            &g.mobility,
        );
        if let MobilitySpec::Ns2Trace { first, tracks, .. } = &g.mobility {
            let count = g.count.unwrap_or(1);
            let missing = (*first..first.saturating_add(count)).find(|k| !tracks.contains_key(k));
            // An empty map means the file could not be read (reported already).
            if let (Some(k), false) = (missing, tracks.is_empty()) {
                p.push(Problem::new(
                    format!("{prefix}.mobility.file"),
                    K::Reference,
                    format!(
                        "the movement file has no `$node_({k})` (group needs {count} from {first})"
                    ),
                ));
            }
        }
    }
}

/// Checks flows: endpoints exist and differ, rate, size, times.
/// Checks `[[probes]]`: period > 0, a plain and unique file name.
fn check_probes(s: &Scenario, p: &mut Vec<Problem>) {
    let mut files = BTreeSet::new();
    for (i, pr) in s.probes.iter().enumerate() {
        if pr.every.is_zero() {
            p.push(Problem::new(
                format!("probes[{i}].every"),
                K::Range,
                "must be > 0",
            ));
        }
        let f = pr.file_name();
        let plain = !f.is_empty() && !f.contains(['/', '\\']) && f != "." && f != "..";
        if !plain {
            p.push(Problem::new(
                format!("probes[{i}].file"),
                K::Range,
                "must be a plain file name (no folders)",
            ));
        } else if !files.insert(f.to_owned()) {
            p.push(Problem::new(
                format!("probes[{i}].file"),
                K::Duplicate,
                format!("another probe already writes `{f}`"),
            ));
        }
    }
}

fn check_flows(s: &Scenario, p: &mut Vec<Problem>) {
    let names: BTreeSet<String> = s.node_names().into_iter().collect();
    for (i, f) in s.flows.iter().enumerate() {
        let prefix = format!("flows[{i}]");
        for (field, n) in [("src", &f.src), ("dst", &f.dst)] {
            if !names.contains(n) {
                p.push(Problem::new(
                    format!("{prefix}.{field}"),
                    K::Reference,
                    format!("no node named \"{n}\""),
                ));
            }
        }
        if f.src == f.dst {
            p.push(Problem::new(
                format!("{prefix}.dst"),
                K::Range,
                "source and destination are the same node",
            ));
        }
        positive(p, &format!("{prefix}.rate"), f.rate);
        if f.size == 0 || f.size > 65_507 {
            p.push(Problem::new(
                format!("{prefix}.size"),
                K::Range,
                format!("UDP payload must be 1 ..= 65507 bytes (got {})", f.size),
            ));
        }
        if let Some(stop) = f.stop {
            if stop <= f.start {
                p.push(Problem::new(
                    format!("{prefix}.stop"),
                    K::Range,
                    "must be after start",
                ));
            }
        }
    }
}
