//! Link quality for displays: for every pair of nodes on the same
//! frequency, the received power, signal-to-noise ratio and the delivery
//! probability of a data frame without interference; and the frames each
//! node has sent (for transmission flashes).
//!
//! For a transmitter `i` and receiver `j` at distance `d`:
//!
//! ```text
//! P_rx [dBm] = EIRP_i + G_rx,j − L(d, λ, h_i, h_j)      (propagation model)
//! SNR        = P_rx [mW] / N_j [mW]                     (thermal noise of j)
//! PDR        = P_success(mode_data,i, SNR, 8 · LINK_FRAME_BYTES)
//! ```
//!
//! with the same loss and error models as the packet-level simulation
//! (see [`crate::phy`], [`crate::propagation`]). Interference is left out:
//! this is the quality of the link on a quiet channel.

use twin_core::NodeId;

use crate::sim::Simulation;

/// Frame size the delivery probability is computed for [bytes].
pub const LINK_FRAME_BYTES: u32 = 1000;

/// The quality of the link from one node to another.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkQuality {
    /// Transmitter.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Distance [m].
    pub distance_m: f64,
    /// Received power [dBm].
    pub rx_dbm: f64,
    /// Signal-to-noise ratio [dB].
    pub snr_db: f64,
    /// Probability that a [`LINK_FRAME_BYTES`] data frame is received
    /// without interference, in [0, 1].
    pub pdr: f64,
}

impl Simulation {
    /// Every directed link whose delivery probability is at least
    /// `min_pdr`, at the current time, ordered by (from, to). O(N²).
    pub fn links(&mut self, min_pdr: f64) -> Vec<LinkQuality> {
        let now = self.now();
        let w = &mut self.world;
        let n = w.nodes.len();
        let pos: Vec<_> = (0..n).map(|i| w.position(i, now)).collect();
        let mut out = Vec::new();
        for i in 0..n {
            let ri = &w.radios[w.nodes[i].phy.radio];
            for j in 0..n {
                let rj = &w.radios[w.nodes[j].phy.radio];
                if i == j || ri.frequency != rj.frequency {
                    continue;
                }
                let Some((rx_dbm, d)) =
                    w.prop
                        .rx_power_dbm(ri.tx_dbm + rj.rx_gain_db, ri.lambda, &pos[i], &pos[j])
                else {
                    continue;
                };
                let snr = 10f64.powf(rx_dbm / 10.0) / rj.noise_mw;
                let pdr = ri.data.success(snr, f64::from(8 * LINK_FRAME_BYTES));
                if pdr >= min_pdr {
                    out.push(LinkQuality {
                        from: NodeId(i as u32),
                        to: NodeId(j as u32),
                        distance_m: d,
                        rx_dbm,
                        snr_db: 10.0 * snr.log10(),
                        pdr,
                    });
                }
            }
        }
        out
    }

    /// Frames each node has put on the air so far (data, control, ACKs),
    /// indexed by node id.
    pub fn frames_sent(&self) -> &[u64] {
        &self.world.frames_sent
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil;
    use twin_core::NodeId;

    #[test]
    fn links_weaken_with_distance_and_frames_are_counted() {
        let sc = testutil::line("aodv", 3, 150.0, "10s", "");
        let mut sim = crate::Simulation::from_scenario(&sc).unwrap();
        let links = sim.links(0.0);
        let get = |a: u32, b: u32| {
            links
                .iter()
                .find(|l| l.from == NodeId(a) && l.to == NodeId(b))
                .cloned()
                .unwrap_or_else(|| panic!("no link {a}→{b} in {links:?}"))
        };
        let near = get(0, 1);
        let far = get(0, 2);
        assert!((near.distance_m - 150.0).abs() < 1e-6);
        assert!((far.distance_m - 300.0).abs() < 1e-6);
        assert!(near.rx_dbm > far.rx_dbm && near.snr_db > far.snr_db);
        assert!(near.pdr >= far.pdr && (0.0..=1.0).contains(&far.pdr));
        assert!(near.pdr > 0.99, "{near:?}");
        // Symmetric radios: the same quality both ways.
        assert!((get(1, 0).snr_db - near.snr_db).abs() < 1e-9);
        assert_eq!(sim.frames_sent(), [0, 0, 0]);
        sim.step_until(testutil::secs(5.0)).unwrap();
        assert!(
            sim.frames_sent().iter().sum::<u64>() > 0,
            "hellos or data were sent"
        );
    }
}
