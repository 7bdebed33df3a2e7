//! Trace replay: ns-2 movement files, the format ns-3's `Ns2MobilityHelper`
//! and BonnMotion/setdest read.
//!
//! ```text
//! $node_(0) set X_ 150.0
//! $node_(0) set Y_ 93.5
//! $node_(0) set Z_ 0.0
//! $ns_ at 2.5 "$node_(0) setdest 700.0 120.0 12.3"
//! ```
//!
//! `set X_/Y_/Z_` give the initial position; `setdest x y speed` at time
//! t starts a straight move from wherever the node is at t toward (x, y)
//! at `speed` \[m·s⁻¹\] (z unchanged); a later `setdest` interrupts it, as
//! in ns-2/ns-3. Each node's motion is turned into timed waypoints:
//! (t, position at t), (t + distance / speed, destination), ...

use std::collections::BTreeMap;

/// One node's replayed motion as (time \[ns\], position \[m\]) points.
pub type Track = Vec<(u64, [f64; 3])>;

/// A malformed trace line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Default)]
struct Node {
    init: [f64; 3],
    moves: Vec<(f64, f64, f64, f64)>, // (t s, x, y, speed)
}

fn num(s: &str, line: usize, what: &str) -> Result<f64, TraceError> {
    s.trim_matches('"')
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| TraceError {
            line,
            message: format!("{what}: `{s}` is not a finite number"),
        })
}

fn node_index(tok: &str, line: usize) -> Result<u32, TraceError> {
    tok.trim_matches('"')
        .strip_prefix("$node_(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| TraceError {
            line,
            message: format!("expected `$node_(N)`, found `{tok}`"),
        })
}

/// Parses a movement file into one track per node index.
///
/// # Errors
/// The first malformed line (unknown command, bad number, negative time or
/// speed).
pub fn parse(text: &str) -> Result<BTreeMap<u32, Track>, TraceError> {
    let mut nodes: BTreeMap<u32, Node> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let tok: Vec<&str> = l.split_whitespace().collect();
        match tok.as_slice() {
            [n, "set", axis, v] if n.starts_with("$node_(") => {
                let k = node_index(n, line)?;
                let a = match *axis {
                    "X_" => 0,
                    "Y_" => 1,
                    "Z_" => 2,
                    other => {
                        return Err(TraceError {
                            line,
                            message: format!("unknown attribute `{other}` (X_, Y_ or Z_)"),
                        })
                    }
                };
                nodes.entry(k).or_default().init[a] = num(v, line, "position")?;
            }
            ["$ns_", "at", t, n, "setdest", x, y, s] => {
                let k = node_index(n, line)?;
                let t = num(t, line, "time")?;
                let s = num(s, line, "speed")?;
                if t < 0.0 || s < 0.0 {
                    return Err(TraceError {
                        line,
                        message: "time and speed must be >= 0".into(),
                    });
                }
                let (x, y) = (num(x, line, "x")?, num(y, line, "y")?);
                nodes.entry(k).or_default().moves.push((t, x, y, s));
            }
            _ => {
                return Err(TraceError {
                    line,
                    message: format!(
                        "not an ns-2 movement command: `{l}` (expected `$node_(N) set X_ v` or `$ns_ at T \"$node_(N) setdest X Y SPEED\"`)"
                    ),
                })
            }
        }
    }
    Ok(nodes.into_iter().map(|(k, n)| (k, track(n))).collect())
}

fn ns(t: f64) -> u64 {
    (t * 1e9).round() as u64
}

/// Position along the segment `a` → `b` at `t` (clamped to its ends).
fn at(a: (u64, [f64; 3]), b: (u64, [f64; 3]), t: u64) -> [f64; 3] {
    if t <= a.0 || b.0 <= a.0 {
        return if t <= a.0 { a.1 } else { b.1 };
    }
    if t >= b.0 {
        return b.1;
    }
    let f = (t - a.0) as f64 / (b.0 - a.0) as f64;
    [0, 1, 2].map(|i| a.1[i] + f * (b.1[i] - a.1[i]))
}

fn track(mut n: Node) -> Track {
    n.moves.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut pts: Track = vec![(0, n.init)];
    for (t, x, y, s) in n.moves {
        let t = ns(t);
        // Where the node is at t: on its last segment (possibly cut short).
        let k = pts.len();
        let here = if k >= 2 && pts[k - 1].0 > t {
            let p = at(pts[k - 2], pts[k - 1], t);
            pts[k - 1] = (t, p);
            p
        } else {
            pts[k - 1].1
        };
        if pts[pts.len() - 1].0 < t {
            pts.push((t, here));
        }
        let dest = [x, y, here[2]];
        let d = ((dest[0] - here[0]).powi(2) + (dest[1] - here[1]).powi(2)).sqrt();
        if s > 0.0 && d > 0.0 {
            let arrive = t + ns(d / s).max(1);
            pts.push((arrive, dest));
        }
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setdest_moves_and_interrupts() {
        let text = "\
$node_(0) set X_ 0.0
$node_(0) set Y_ 0.0
$node_(0) set Z_ 5.0
$node_(1) set X_ 10.0
$ns_ at 1.0 \"$node_(0) setdest 100.0 0.0 10.0\"
# interrupted half way: at 6 s the node is at x = 50
$ns_ at 6.0 \"$node_(0) setdest 50.0 30.0 3.0\"
";
        let t = parse(text).unwrap();
        let n0 = &t[&0];
        let s = 1_000_000_000u64;
        assert_eq!(
            n0,
            &vec![
                (0, [0.0, 0.0, 5.0]),
                (s, [0.0, 0.0, 5.0]),
                (6 * s, [50.0, 0.0, 5.0]),
                (16 * s, [50.0, 30.0, 5.0]),
            ]
        );
        assert_eq!(t[&1], vec![(0, [10.0, 0.0, 0.0])]);
    }

    #[test]
    fn bad_lines_are_located() {
        let e =
            parse("$node_(0) set X_ 1\n$ns_ at 2 \"$node_(0) setdest 1 2 fast\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("speed"), "{e:?}");
        let e = parse("$node_(x) set X_ 1\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("hello\n").unwrap_err();
        assert!(e.message.contains("ns-2"), "{e:?}");
    }
}
