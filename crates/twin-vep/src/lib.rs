//! # twin-vep: the virtual epileptic patient
#![allow(clippy::needless_range_loop)]

pub mod error;
pub mod features;
pub mod fit;
pub mod hmc;
pub mod io;
pub mod model;
pub mod objective;
pub mod optim;
pub mod patient;
pub mod predict;
pub mod rng;
pub mod sensors;

pub use error::VepError;
