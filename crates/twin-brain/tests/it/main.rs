//! Integration tests of twin-brain, one module per topic (one test binary).

mod common;
mod connectomes;
mod output;
mod parity;
mod tvb_references;
