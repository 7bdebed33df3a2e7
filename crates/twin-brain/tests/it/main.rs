//! Integration tests of twin-brain, one module per topic (one test binary).

mod common;
mod connectomes;
mod output;
mod parity;
mod stochastic;
mod tvb_references;
