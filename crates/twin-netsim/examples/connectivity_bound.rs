//! Upper bound on delivery from the topology alone: the fraction of
//! flow-time during which the connectivity graph holds any path from the
//! flow's source to its destination, beside the delivery ratio of the same
//! run.
//!
//! A link is up when each end receives the other above the preamble
//! detection threshold (the PHY could lock on its frames; radio horizon
//! included); a second bound also requires the hop to be at most
//! `--max-hop` metres (greedy routing's `max_hop_m`). Sampled every
//! `--every` seconds over each flow's active period.
//!
//! ```sh
//! cargo run --release -p twin-netsim --example connectivity_bound -- \
//!     --scenario scenarios/net/aanet-atlantic.toml --max-hop 400000
//! ```

use std::collections::VecDeque;

use twin_core::{SimDuration, SimTime};
use twin_netsim::{Scenario, Simulation};

/// Whether `dst` is reachable from `src` over `adj`.
fn reachable(adj: &[Vec<u32>], src: u32, dst: u32) -> bool {
    let mut seen = vec![false; adj.len()];
    let mut q = VecDeque::from([src]);
    seen[src as usize] = true;
    while let Some(a) = q.pop_front() {
        if a == dst {
            return true;
        }
        for &b in &adj[a as usize] {
            if !std::mem::replace(&mut seen[b as usize], true) {
                q.push_back(b);
            }
        }
    }
    false
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut path = String::from("scenarios/net/aanet-atlantic.toml");
    let (mut every, mut max_hop) = (5u64, f64::INFINITY);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--scenario" => path = val()?,
            "--every" => every = val()?.parse()?,
            "--max-hop" => max_hop = val()?.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let sc = Scenario::from_file(&path)?;
    let end = sc.simulation.duration;
    let mut sim = Simulation::from_scenario(&sc)?;
    let flows: Vec<(u32, u32, u64, u64)> = sc
        .flows
        .iter()
        .map(|f| {
            let id = |n: &str| sim.node_id(n).map(|i| i.0).ok_or(format!("no node {n}"));
            let start = (f.start + f.start_jitter).as_nanos();
            let stop = f.stop.unwrap_or(end).as_nanos();
            Ok((id(&f.src)?, id(&f.dst)?, start, stop))
        })
        .collect::<Result<_, String>>()?;
    let n = sim.node_count();
    let (mut samples, mut phys, mut hop) = (0u64, 0u64, 0u64);
    let mut t = SimTime::ZERO;
    while t < SimTime::ZERO + end {
        sim.step_until(t)?;
        let pos = sim.positions();
        let mut adj = vec![Vec::new(); n];
        let mut adj_hop = vec![Vec::new(); n];
        for (a, b) in sim.links_up() {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
            let (pa, pb) = (pos[a as usize].xyz, pos[b as usize].xyz);
            let d = ((pa[0] - pb[0]).powi(2) + (pa[1] - pb[1]).powi(2) + (pa[2] - pb[2]).powi(2))
                .sqrt();
            if d <= max_hop {
                adj_hop[a as usize].push(b);
                adj_hop[b as usize].push(a);
            }
        }
        for &(s, d, start, stop) in &flows {
            if (start..stop).contains(&t.as_nanos()) {
                samples += 1;
                phys += u64::from(reachable(&adj, s, d));
                hop += u64::from(reachable(&adj_hop, s, d));
            }
        }
        t += SimDuration::from_secs(every);
    }
    sim.run()?;
    let st = sim.stats();
    let frac = |k: u64| k as f64 / samples.max(1) as f64;
    println!(
        "RESULT {}",
        serde_json::json!({
            "scenario": sc.simulation.name,
            "samples": samples,
            "path_fraction_phy": frac(phys),
            "path_fraction_max_hop": frac(hop),
            "max_hop_m": max_hop,
            "pdr": st.totals.delivery_ratio,
            "accounting": st.accounting,
        })
    );
    Ok(())
}
