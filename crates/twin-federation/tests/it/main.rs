//! Integration tests of the federation runtime.

mod fixture;
mod init_failure;
mod lifecycle;
mod status;
mod time;
