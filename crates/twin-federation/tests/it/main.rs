//! Integration tests of the federation runtime.

mod fixture;
mod lifecycle;
mod status;
mod time;
