//! `twin llm …`: the local model service.
//!
//! `twin llm serve --model FILE` serves a GGUF model over the OpenAI- and Ollama-compatible
//! APIs on 127.0.0.1 (the llama.cpp engine needs a build with the `llama` feature);
//! `--mock` serves the scripted test engine instead. `twin llm gateway --backend HOST:PORT …`
//! balances requests over several instances (`twin_llm_server::gateway`). `twin llm run`
//! chats in the terminal and `twin llm bench` measures tokens/s and time to first token
//! (module `run`); `twin llm pull ORG/REPO/FILE` downloads a GGUF (module `pull`).
//! `twin llm info --model FILE` prints the file's metadata or says exactly why the file is
//! unusable.

use std::{io::Write, path::PathBuf, sync::Arc};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use twin_llm::{Engine, GgufInfo, MockConfig, MockEngine};
use twin_llm_server::{AccessLog, ServerConfig};

mod pull;
mod run;

/// `twin llm` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum LlmCmd {
    /// Serve a GGUF model over HTTP on 127.0.0.1.
    Serve(ServeOpts),
    /// Balance requests over several `twin llm serve` instances (same APIs outward).
    Gateway(GatewayOpts),
    /// Chat with a model in the terminal, or answer one prompt and exit.
    Run(run::RunOpts),
    /// Measure tokens/s and time to first token at several concurrency levels.
    Bench(run::BenchOpts),
    /// Download a GGUF file from a Hugging Face style hub, with progress and checksum.
    Pull(pull::PullOpts),
    /// Print a GGUF file's metadata (architecture, context, quantisation, template).
    Info {
        /// GGUF model file.
        #[arg(long)]
        model: PathBuf,
    },
}

/// Which engine to load (shared by `serve`, `run` and `bench`).
#[derive(Args, Debug, Clone)]
pub(crate) struct EngineOpts {
    /// GGUF model file (`serve` also takes `--models DIR`).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Sequence slots decoded together (concurrent generations).
    #[arg(long, alias = "parallel", default_value_t = 4)]
    slots: u32,
    /// Context window per slot [tokens].
    #[arg(long, default_value_t = 4096)]
    ctx: u32,
    /// Compute threads (default: all cores).
    #[arg(long)]
    threads: Option<u32>,
    /// Most prompt tokens of one request prefilled per step while other requests generate or
    /// wait (every waiting prompt gets a chunk of the next step).
    #[arg(long, default_value_t = 128)]
    prefill_chunk: u32,
    /// Prefill priority: most generating requests' tokens in a step that carries a prompt
    /// (default 0: a waiting prompt gets a step of its own, lowest p99 time to first token
    /// at 8 streams in BENCHMARKS.md's LLM round 6; a large value puts every generating
    /// request in every step).
    #[arg(long)]
    decode_with_prefill: Option<u32>,
    /// Most waiting prompts prefilled in one step, oldest first (default 1: colliding
    /// prompts are served one after the other; a large value prefills all together).
    #[arg(long)]
    prompts_per_step: Option<u32>,
    /// Model id reported to clients (default: the file stem).
    #[arg(long)]
    id: Option<String>,
    /// Use the scripted mock engine (no model; for tests).
    #[arg(long)]
    mock: bool,
    /// With --mock: pause before each generated piece [ms].
    #[arg(long, default_value_t = 0, requires = "mock")]
    mock_token_ms: u64,
}

/// Options of `twin llm serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeOpts {
    #[command(flatten)]
    engine: EngineOpts,
    /// Serve every GGUF file in this directory: each loads on its first request and unloads
    /// after its keep-alive (instead of --model).
    #[arg(long, conflicts_with_all = ["model", "mock"])]
    models: Option<PathBuf>,
    /// With --models: most memory the loaded models may take (`8G`, `512M`, bytes);
    /// least recently used idle models are unloaded to make room. Default: no limit.
    #[arg(long, requires = "models", value_parser = parse_bytes)]
    memory_budget: Option<u64>,
    /// With --models: how long a model stays loaded after its last request, unless the
    /// request says (`5m`, `30s`, `0` = unload at once, `-1` = forever).
    #[arg(long, requires = "models", default_value = "5m", value_parser = parse_keep_alive)]
    keep_alive: twin_llm::KeepAlive,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Requests that may wait beyond the slots; more get 429.
    #[arg(long, default_value_t = 64)]
    max_queue: usize,
    /// Require `Authorization: Bearer KEY` (repeatable). Also TWIN_LLM_API_KEY.
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// Browser origin allowed by CORS (repeatable; `*` allows any). Default: none.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    /// Do not write one JSON line per request to stderr.
    #[arg(long)]
    no_access_log: bool,
}

/// Options of `twin llm gateway`.
#[derive(Args, Debug)]
pub(crate) struct GatewayOpts {
    /// An instance as HOST:PORT (repeatable, at least one).
    #[arg(long = "backend", required = true)]
    backends: Vec<String>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Time between health checks [ms].
    #[arg(long, default_value_t = 2000)]
    health_ms: u64,
    /// Instances tried per request.
    #[arg(long, default_value_t = 3)]
    attempts: usize,
}

pub(crate) fn dispatch(cmd: LlmCmd) -> Result<()> {
    match cmd {
        LlmCmd::Info { model } => info(&model),
        LlmCmd::Serve(opts) => serve(opts),
        LlmCmd::Gateway(opts) => gateway(opts),
        LlmCmd::Run(opts) => run::run(&opts),
        LlmCmd::Bench(opts) => run::bench(&opts),
        LlmCmd::Pull(opts) => pull::pull(&opts),
    }
}

fn info(path: &std::path::Path) -> Result<()> {
    let g = GgufInfo::read(path)?;
    println!(
        "file:          {} ({} bytes, GGUF v{})",
        path.display(),
        g.file_len,
        g.version
    );
    println!("name:          {}", g.name().unwrap_or("-"));
    println!("architecture:  {}", g.architecture().unwrap_or("-"));
    println!(
        "context:       {}",
        g.context_length().map_or("-".into(), |c| c.to_string())
    );
    println!("quantization:  {}", g.quantization());
    println!("parameters:    {}", g.parameter_count());
    println!("tensors:       {}", g.tensors.len());
    match g.chat_template() {
        Some(t) => println!("chat template: {} chars", t.len()),
        None => println!("chat template: none (ChatML is used)"),
    }
    Ok(())
}

fn load_engine(opts: &EngineOpts) -> Result<Arc<dyn Engine>> {
    if opts.mock {
        let id = opts.id.clone().unwrap_or_else(|| "mock".into());
        let cfg = MockConfig {
            id,
            slots: opts.slots,
            slot_context: opts.ctx,
            token_delay: std::time::Duration::from_millis(opts.mock_token_ms),
            ..MockConfig::default()
        };
        return Ok(Arc::new(MockEngine::new(cfg)));
    }
    let model = opts.model.as_ref().context("--model is required")?;
    load_llama(model, opts)
}

#[cfg(feature = "llama")]
fn load_llama(model: &std::path::Path, opts: &EngineOpts) -> Result<Arc<dyn Engine>> {
    let o = twin_llm::LlamaOptions {
        slots: opts.slots,
        slot_context: opts.ctx,
        threads: opts.threads,
        prefill_chunk: opts.prefill_chunk,
        decode_with_prefill: opts.decode_with_prefill.unwrap_or(0),
        prompts_per_step: opts.prompts_per_step.unwrap_or(1),
        id: opts.id.clone(),
        ..Default::default()
    };
    let e = twin_llm::LlamaEngine::load(model, &o)
        .with_context(|| format!("cannot load {}", model.display()))?;
    Ok(Arc::new(e))
}

#[cfg(not(feature = "llama"))]
fn load_llama(model: &std::path::Path, _opts: &EngineOpts) -> Result<Arc<dyn Engine>> {
    // Check the file anyway so that a bad file is reported as such.
    GgufInfo::read(model)?;
    Err(twin_llm::LoadError::NoBackend.into())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn gateway(opts: GatewayOpts) -> Result<()> {
    let config = twin_llm_server::GatewayConfig {
        backends: opts.backends.clone(),
        health_interval: std::time::Duration::from_millis(opts.health_ms.max(10)),
        attempts: opts.attempts.max(1),
        ..Default::default()
    };
    runtime()?.block_on(async move {
        let listener = twin_llm_server::bind_local(opts.port)
            .await
            .with_context(|| format!("cannot bind 127.0.0.1:{}", opts.port))?;
        let addr = listener.local_addr()?;
        let g = twin_llm_server::Gateway::new(config);
        g.check_all().await;
        tokio::spawn(Arc::clone(&g).health_loop());
        println!(
            "gateway over {} instance(s) on http://{addr}",
            opts.backends.len()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        twin_llm_server::serve(listener, twin_llm_server::gateway_router(g), shutdown)
            .await
            .context("gateway failed")
    })
}

/// `8G`, `512M`, `1.5GiB`, `100000` → bytes (binary multiples).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let value: f64 = t[..split]
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 8G or 512M"))?;
    let scale: u64 = match t[split..].trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        other => return Err(format!("unknown size unit `{other}` (use K, M, G or T)")),
    };
    Ok((value * scale as f64) as u64)
}

fn parse_keep_alive(text: &str) -> Result<twin_llm::KeepAlive, String> {
    twin_llm::KeepAlive::parse(text)
}

/// The registry over `--models DIR`: llama.cpp engines made with the serve options.
fn registry(dir: &std::path::Path, opts: &ServeOpts) -> Result<twin_llm::Registry> {
    let engine = opts.engine.clone();
    let loader: twin_llm::registry::Loader = Box::new(move |entry| {
        let o = EngineOpts {
            model: Some(entry.path.clone()),
            id: Some(entry.id.clone()),
            ..engine.clone()
        };
        load_llama(&entry.path, &o).map_err(|e| twin_llm::LoadError::Backend {
            path: entry.path.clone(),
            reason: format!("{e:#}"),
        })
    });
    let config = twin_llm::RegistryConfig {
        budget_bytes: opts.memory_budget,
        default_keep_alive: opts.keep_alive,
    };
    let kv_tokens = u64::from(opts.engine.slots) * u64::from(opts.engine.ctx);
    Ok(twin_llm::Registry::scan(dir, kv_tokens, loader, config)?)
}

fn serve(opts: ServeOpts) -> Result<()> {
    let models = match &opts.models {
        Some(dir) => registry(dir, &opts)?,
        None => twin_llm::Registry::single(load_engine(&opts.engine)?),
    };
    let mut api_keys = opts.api_keys.clone();
    if let Ok(k) = std::env::var("TWIN_LLM_API_KEY") {
        api_keys.extend(
            k.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        );
    }
    let config = ServerConfig {
        max_queue: opts.max_queue,
        api_keys,
        cors_origins: opts.cors_origins.clone(),
        access_log: if opts.no_access_log {
            AccessLog::Off
        } else {
            AccessLog::Stderr
        },
        ..ServerConfig::default()
    };
    runtime()?.block_on(async move {
        let listener = twin_llm_server::bind_local(opts.port)
            .await
            .with_context(|| format!("cannot bind 127.0.0.1:{}", opts.port))?;
        let addr = listener.local_addr()?;
        if opts.models.is_some() {
            println!(
                "serving {} model(s), loaded on first request, on http://{addr}",
                models.entries().len()
            );
            // Details after the address line; a reader that took only that line may have
            // closed the pipe, which is no reason to stop serving.
            let mut out = std::io::stdout().lock();
            for m in models.entries() {
                let _ = writeln!(
                    out,
                    "  {} ({}, {}, {} MiB file, about {} MiB loaded)",
                    m.id,
                    m.architecture,
                    m.quantization,
                    m.size_bytes >> 20,
                    m.memory_bytes >> 20
                );
            }
        } else {
            let load = models.load();
            let m = &models.entries()[0];
            println!(
                "serving {} ({}, {}, {} slots) on http://{addr}",
                m.id, m.architecture, m.quantization, load.slots
            );
        }
        let state = twin_llm_server::AppState::with_models(models, config);
        let app = twin_llm_server::router_with_state(state);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        twin_llm_server::serve(listener, app, shutdown)
            .await
            .context("server failed")
    })
}
