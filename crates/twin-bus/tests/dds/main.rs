//! The bus on DDS (Cyclone) within one process: keyed instances, QoS,
//! statuses. Multi-process tests are in `tests/dds_procs` (run through
//! `scripts/netns-run`).
#![cfg(feature = "dds")]

mod both;
mod discovery;
mod handover;
mod procs;
mod single;
