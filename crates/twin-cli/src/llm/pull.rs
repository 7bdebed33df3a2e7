//! `twin llm pull ORG/REPO/FILE.gguf`: downloads a GGUF from a Hugging Face style hub.
//!
//! 1. `GET {hub}/api/models/{ORG/REPO}/tree/{revision}` lists the repository; the file's
//!    entry gives its size and, for LFS files, its SHA-256 (`lfs.oid`).
//! 2. `GET {hub}/{ORG/REPO}/resolve/{revision}/{FILE}` streams the file into
//!    `{dir}/{FILE}.part`, hashing it on the way, with a progress bar.
//! 3. The checksum (the hub's, or `--sha256`) must match and the file must read as GGUF;
//!    only then is it renamed into place. On any failure the partial file is removed.

use std::{
    fs::File,
    io::{BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Options of `twin llm pull`.
#[derive(Args, Debug)]
pub(crate) struct PullOpts {
    /// `ORG/REPO/FILE.gguf`, e.g. `bartowski/DeepSeek-R1-Distill-Qwen-1.5B-GGUF/DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf`.
    spec: String,
    /// Hub base URL (default: TWIN_LLM_HUB, else https://huggingface.co).
    #[arg(long)]
    hub: Option<String>,
    /// Models directory (default: TWIN_MODELS_DIR, else `models`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Repository revision (branch, tag or commit).
    #[arg(long, default_value = "main")]
    revision: String,
    /// Expected SHA-256 in hex (default: the checksum the hub publishes).
    #[arg(long)]
    sha256: Option<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Removes the partial file unless disarmed.
struct Partial(PathBuf, bool);

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn get(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>> {
    match agent.get(url).call() {
        Ok(r) => Ok(r),
        Err(ureq::Error::StatusCode(code)) => bail!("{url}: HTTP {code}"),
        Err(e) => Err(e).with_context(|| format!("cannot reach {url}")),
    }
}

/// The published SHA-256 and size of `file`, from the repository listing.
fn published(
    agent: &ureq::Agent,
    hub: &str,
    repo: &str,
    rev: &str,
    file: &str,
) -> Result<(Option<String>, Option<u64>)> {
    let url = format!("{hub}/api/models/{repo}/tree/{rev}");
    let mut resp = get(agent, &url).with_context(|| format!("cannot list {repo}"))?;
    let listing: Value = serde_json::from_reader(resp.body_mut().as_reader())
        .with_context(|| format!("{url}: not a JSON file list"))?;
    let entries = listing
        .as_array()
        .with_context(|| format!("{url}: not a JSON file list"))?;
    let Some(entry) = entries.iter().find(|e| e["path"] == file) else {
        let ggufs: Vec<&str> = entries
            .iter()
            .filter_map(|e| e["path"].as_str())
            .filter(|p| p.ends_with(".gguf"))
            .collect();
        bail!("{repo} has no file `{file}`; its GGUF files: {ggufs:?}");
    };
    let sha = entry["lfs"]["oid"].as_str().map(str::to_owned);
    let size = entry["lfs"]["size"]
        .as_u64()
        .or_else(|| entry["size"].as_u64());
    Ok((sha, size))
}

pub(crate) fn pull(opts: &PullOpts) -> Result<()> {
    let parts: Vec<&str> = opts.spec.splitn(3, '/').collect();
    let [org, name, file] = parts[..] else {
        bail!("`{}`: expected ORG/REPO/FILE.gguf", opts.spec);
    };
    if org.is_empty() || name.is_empty() || file.is_empty() || file.contains("..") {
        bail!("`{}`: expected ORG/REPO/FILE.gguf", opts.spec);
    }
    let repo = format!("{org}/{name}");
    let hub = opts
        .hub
        .clone()
        .or_else(|| std::env::var("TWIN_LLM_HUB").ok())
        .unwrap_or_else(|| "https://huggingface.co".into());
    let hub = hub.trim_end_matches('/');
    let dir = opts
        .dir
        .clone()
        .or_else(|| std::env::var_os("TWIN_MODELS_DIR").map(PathBuf::from))
        .unwrap_or_else(|| "models".into());
    let base = Path::new(file)
        .file_name()
        .with_context(|| format!("`{file}` has no file name"))?;
    let dest = dir.join(base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(20)))
        .build()
        .into();

    let (hub_sha, size) = published(&agent, hub, &repo, &opts.revision, file)?;
    let want = opts.sha256.clone().or(hub_sha).map(|s| s.to_lowercase());
    if want.is_none() {
        eprintln!("warning: {repo} publishes no SHA-256 for {file}; it is checked as GGUF only");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let url = format!("{hub}/{repo}/resolve/{}/{file}", opts.revision);
    let mut resp = get(&agent, &url)?;
    let total = size.or_else(|| {
        resp.headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse().ok())
    });
    let part_path = dir.join(format!("{}.part", base.to_string_lossy()));
    let mut partial = Partial(part_path.clone(), false);
    let mut out = BufWriter::new(
        File::create(&part_path)
            .with_context(|| format!("cannot write {}", part_path.display()))?,
    );
    let bar = if opts.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(total.unwrap_or(0));
        b.set_style(
            ProgressStyle::with_template(
                "{bytes}/{total_bytes} {bar:30} {bytes_per_sec} eta {eta}",
            )
            .expect("a valid template"),
        );
        b
    };
    let mut hasher = Sha256::new();
    let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("downloading {url}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("writing {}", part_path.display()))?;
        got += n as u64;
        bar.set_position(got);
    }
    bar.finish_and_clear();
    out.flush()
        .with_context(|| format!("writing {}", part_path.display()))?;
    drop(out);
    if let Some(t) = size {
        if got != t {
            bail!("{url}: received {got} bytes, the hub lists {t}");
        }
    }
    let sha: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(w) = &want {
        if *w != sha {
            bail!("checksum mismatch for {file}: expected SHA-256 {w}, got {sha}; the download was removed");
        }
    }
    let info = twin_llm::GgufInfo::read(&part_path)
        .with_context(|| format!("{file} is not a usable GGUF file; the download was removed"))?;
    std::fs::rename(&part_path, &dest)
        .with_context(|| format!("cannot move the download to {}", dest.display()))?;
    partial.1 = true;
    println!(
        "{} ({} bytes, {}, {}, sha256 {sha})",
        dest.display(),
        got,
        info.architecture().unwrap_or("unknown architecture"),
        info.quantization()
    );
    Ok(())
}
