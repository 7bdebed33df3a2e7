//! Integration tests of the in-memory bus: one binary, one module per topic.

mod common;
mod lifecycle;
mod ownership;
mod readers;
mod reliability;
mod timed;
