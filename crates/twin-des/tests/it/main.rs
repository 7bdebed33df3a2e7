//! Integration tests of `twin-des`, one binary with one module per topic
//! (see matklad, "Delete Cargo Integration Tests").

mod determinism;
mod federation;
mod hold;
