//! Integration tests of `twin-netsim`: one binary, one module per topic
//! (matklad, "Delete Cargo Integration Tests").

mod accounting;
mod api;
mod determinism;
mod scenario_files;
mod shipped;

use std::path::PathBuf;

use twin_core::{SimDuration, SimTime};

/// `s` seconds as a [`SimTime`].
pub(crate) fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

/// Path of a file under the workspace's `scenarios/net/`.
pub(crate) fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/net")
        .join(name)
}
