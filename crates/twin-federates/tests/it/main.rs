//! Integration tests of member kinds inside a real federation.

mod assistant;
mod brain;
mod demo;
mod net;
mod seizure;
