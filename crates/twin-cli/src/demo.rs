//! `twin demo`: the bundled demo federation, optionally with the assistant member answering
//! questions about it with a local GGUF model (`--assistant MODEL.gguf`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;
use twin_scenario::Scenario;

/// The bundled demo scenario.
pub(crate) const DEMO: &str = include_str!("../../../scenarios/demo.toml");

/// Topics the demo's assistant summarises: the network's statistics, routes and node
/// positions, the brain's regional activity, and the demo's ticks.
pub(crate) const ASSISTANT_TOPICS: [&str; 5] = [
    "twin/net/stats",
    "twin/net/route",
    "twin/net/node/position",
    "twin/brain/monitor/tavg",
    "twin/demo/tick",
];

/// Options of `twin demo` beyond those shared with `twin run`.
#[derive(Args, Debug)]
pub(crate) struct DemoOpts {
    /// Add the assistant member, answering with this GGUF model (needs a build with the
    /// `llama` feature; `scripts/demo` fetches SmolLM2 and builds one). Without `--pacing`
    /// the demo then runs in real time so there is time to ask.
    #[arg(long, value_name = "MODEL.gguf")]
    pub(crate) assistant: Option<PathBuf>,
    /// Compute threads of the assistant's model (default: all cores).
    #[arg(long, requires = "assistant")]
    pub(crate) assistant_threads: Option<u32>,
    /// Serve the assistant's own `POST /ask` on 127.0.0.1 at this port (0 = any free one).
    #[arg(long, requires = "assistant")]
    pub(crate) assistant_port: Option<u16>,
}

/// The demo scenario's text, with the assistant member appended when asked for.
pub(crate) fn scenario_text(opts: &DemoOpts) -> Result<String> {
    let Some(model) = &opts.assistant else {
        return Ok(DEMO.to_owned());
    };
    check_model(model)?;
    let path = model
        .canonicalize()
        .unwrap_or_else(|_| model.clone())
        .to_string_lossy()
        .into_owned();
    let topics: Vec<toml::Value> = ASSISTANT_TOPICS
        .iter()
        .map(|t| toml::Value::String((*t).to_owned()))
        .collect();
    let mut text = DEMO.to_owned();
    text.push_str(&format!(
        "\n# Added by `twin demo --assistant`: answers questions about the federation\n\
         [[member]]\nname = \"assistant\"\nkind = \"assistant\"\n[member.params]\n\
         model = {}\ntopics = {}\nper_topic = 3\nmax_tokens = 96\nanswer_timeout_s = 300.0\n",
        toml::Value::String(path),
        toml::Value::Array(topics),
    ));
    if let Some(n) = opts.assistant_threads {
        text.push_str(&format!("threads = {n}\n"));
    }
    if let Some(p) = opts.assistant_port {
        text.push_str(&format!("http_port = {p}\n"));
    }
    Ok(text)
}

/// Refuses a model the assistant cannot load, before the federation starts.
fn check_model(model: &Path) -> Result<()> {
    if !cfg!(feature = "llama") {
        bail!(
            "--assistant needs the llama.cpp engine, which this build of twin lacks: build with \
             `cargo build --release --bin twin --features twin-cli/llama` (needs cmake, clang, \
             libclang), or run `scripts/demo`"
        );
    }
    if !model.is_file() {
        bail!(
            "--assistant {}: no such model file (scripts/fetch-llm-models fetches SmolLM2 into \
             target/models/)",
            model.display()
        );
    }
    Ok(())
}

/// Applies the demo's defaults: with the assistant and no `--pacing`, real time.
pub(crate) fn adjust(mut scenario: Scenario, opts: &DemoOpts, pacing_given: bool) -> Scenario {
    if let Some(model) = &opts.assistant {
        if !pacing_given {
            scenario.federation.pacing = 1.0;
        }
        eprintln!(
            "twin: assistant: {} answers questions in the dashboard's Assistant panel \
             and at POST /api/assistant/ask {{\"question\": \"…\"}}",
            model.display()
        );
    }
    scenario
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(model: Option<PathBuf>) -> DemoOpts {
        DemoOpts {
            assistant: model,
            assistant_threads: Some(2),
            assistant_port: None,
        }
    }

    #[test]
    fn without_assistant_the_demo_is_unchanged() {
        assert_eq!(scenario_text(&opts(None)).unwrap(), DEMO);
    }

    #[test]
    fn the_assistant_member_is_appended_or_refused() {
        let d = tempfile::tempdir().unwrap();
        let model = d.path().join("m \"q\".gguf");
        std::fs::write(&model, b"GGUF").unwrap();
        let got = scenario_text(&opts(Some(model)));
        if cfg!(feature = "llama") {
            let text = got.unwrap();
            let s = Scenario::parse(&text, "demo").unwrap();
            let m = s.members.iter().find(|m| m.name == "assistant").unwrap();
            assert_eq!(m.kind, "assistant");
            let p = &m.params;
            assert_eq!(p["threads"].as_integer(), Some(2));
            let path = p["model"].as_str().unwrap();
            assert!(path.ends_with("m \"q\".gguf"), "{path}");
            assert_eq!(
                p["topics"].as_array().unwrap().len(),
                ASSISTANT_TOPICS.len()
            );
            let e = scenario_text(&opts(Some(d.path().join("none.gguf")))).unwrap_err();
            assert!(e.to_string().contains("no such model file"), "{e}");
        } else {
            let e = got.unwrap_err().to_string();
            assert!(e.contains("needs the llama.cpp engine"), "{e}");
        }
    }
}
