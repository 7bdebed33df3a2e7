//! `twin brain …`: the whole-brain simulator's commands.

use anyhow::Result;
use clap::Subcommand;

use crate::vep;

/// `twin brain` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum BrainCmd {
    /// The virtual epileptic patient workflow (synthetic patients, fit, predictions, report).
    #[command(subcommand)]
    Vep(vep::VepCmd),
}

/// Runs a `twin brain` subcommand.
pub(crate) fn dispatch(cmd: BrainCmd) -> Result<()> {
    match cmd {
        BrainCmd::Vep(c) => vep::dispatch(c),
    }
}
