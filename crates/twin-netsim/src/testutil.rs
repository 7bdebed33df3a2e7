//! Scenario builders shared by the unit tests.

use twin_core::{NodeId, SimDuration, SimTime};

use crate::{Scenario, Simulation};

/// `s` seconds as a [`SimTime`].
pub(crate) fn secs(s: f64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs_f64(s).expect("test times are valid")
}

/// Node id shorthand.
pub(crate) fn id(n: u32) -> NodeId {
    NodeId(n)
}

/// A scenario of `n` nodes `spacing` metres apart on the x axis, each with
/// its own `[[nodes]]` entry and external mobility (so tests can move
/// them), 802.11b at 7.5 dBm (≈ 300 m range at 2.412 GHz), the given
/// protocol and extra TOML (flows, overrides) appended.
pub(crate) fn line(protocol: &str, n: u32, spacing: f64, duration: &str, extra: &str) -> Scenario {
    let mut t = format!(
        r#"
[simulation]
name = "line"
duration = "{duration}"
seed = 7

[radios.wifi]
standard = "802.11b"
rate_mbps = 11.0
tx_power_dbm = 7.5

[routing]
protocol = "{protocol}"
"#
    );
    for i in 0..n {
        t.push_str(&format!(
            "\n[[nodes]]\nname = \"n{i}\"\nmobility = {{ model = \"external\", position = [{}, 0, 0] }}\n",
            f64::from(i) * spacing
        ));
    }
    t.push_str(extra);
    Scenario::parse(&t, None).unwrap_or_else(|e| panic!("test scenario invalid:\n{e}\n{t}"))
}

/// A CBR flow in TOML.
pub(crate) fn flow(src: u32, dst: u32, rate: f64, start: &str, stop: &str) -> String {
    format!(
        "\n[[flows]]\nsrc = \"n{src}\"\ndst = \"n{dst}\"\nrate = {rate}\nsize = 512\nstart = \"{start}\"\nstop = \"{stop}\"\n"
    )
}

/// Builds and steps a simulation to `t` seconds.
pub(crate) fn run_to(sc: &Scenario, t: f64) -> Simulation {
    let mut sim = Simulation::from_scenario(sc).expect("test scenario builds");
    sim.step_until(secs(t)).expect("time moves forward");
    sim
}
