//! Model management: a catalogue of GGUF files, loaded on first use, kept resident for a
//! keep-alive time, and evicted least-recently-used within a memory budget.
//!
//! [`Registry::scan`] lists every `*.gguf` file of a directory (read with [`GgufInfo`], so a
//! corrupt file is reported and skipped). [`Registry::acquire`] returns a [`Lease`] on a
//! loaded engine, loading the model first when it is not resident. While any lease is alive
//! the model stays loaded; when the last one ends the model's expiry is set from the
//! request's [`KeepAlive`] (Ollama semantics: 5 minutes by default, `0` unloads at once, a
//! negative value keeps it forever). [`Registry::reap`] unloads idle models past their expiry.
//!
//! Memory is accounted with an estimate per model, made before loading:
//!
//! ```text
//! bytes = file_len + 2 · n_layer · n_ctx · n_embd · (n_head_kv / n_head) · 2
//!                  + 4 · n_batch · (n_vocab + n_ff + 3 · n_embd)
//! ```
//!
//! the weights (the file, memory-mapped), an f16 key and value cache for `n_ctx` tokens (all
//! sequence slots), and the f32 scratch llama.cpp reserves for the largest step of
//! `n_batch` = 512 tokens: the logits of every token (`n_vocab` each) and the widest
//! activations. For SmolLM2-135M the scratch term gives 102 MiB where llama.cpp reports a
//! 103.8 MiB compute buffer. Only the pages a step touches become resident, so the estimate
//! is an upper bound: `tests/memory.rs` measures the resident set of a loaded model against
//! it. Architectures whose metadata lacks the attention sizes count the file only. A model that needs more than the whole budget is refused
//! ([`RegistryError::TooLarge`]); one that would fit once idle models are evicted evicts the
//! least recently used of them; one that cannot fit because the resident models are all busy
//! is refused for now ([`RegistryError::NoRoom`]).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use crate::{
    engine::{Engine, Load},
    error::LoadError,
    gguf::GgufInfo,
};

/// How long a model stays loaded after its last request ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// Until evicted for memory or the server stops.
    Forever,
    /// For this long; zero unloads as soon as the last request ends.
    For(Duration),
}

impl Default for KeepAlive {
    /// Ollama's default: five minutes.
    fn default() -> Self {
        KeepAlive::For(Duration::from_secs(300))
    }
}

impl KeepAlive {
    /// From a number of seconds; negative means forever.
    pub fn from_seconds(s: f64) -> Result<Self, String> {
        if s.is_nan() {
            return Err("is not a number".into());
        }
        if s < 0.0 {
            return Ok(KeepAlive::Forever);
        }
        Duration::try_from_secs_f64(s)
            .map(KeepAlive::For)
            .map_err(|_| format!("{s} s is too long"))
    }

    /// Parses Ollama's spelling: a Go duration (`"5m"`, `"1h30m"`, `"10s"`, `"250ms"`), a bare
    /// number of seconds (`"300"`), or either with a minus sign (forever).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Ok(s) = t.parse::<f64>() {
            return Self::from_seconds(s);
        }
        let (negative, mut rest) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        };
        let bad = || format!("`{text}` is not a duration such as \"5m\", \"30s\" or \"-1\"");
        if rest.is_empty() {
            return Err(bad());
        }
        let mut secs = 0.0;
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let value: f64 = rest[..n].parse().map_err(|_| bad())?;
            let unit_len = rest[n..]
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len() - n);
            let scale = match &rest[n..n + unit_len] {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad()),
            };
            secs += value * scale;
            rest = &rest[n + unit_len..];
        }
        if negative {
            return Ok(KeepAlive::Forever);
        }
        Self::from_seconds(secs)
    }
}

/// One model file of the catalogue.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    /// Identifier clients use in the `model` field: the file stem.
    pub id: String,
    /// The GGUF file.
    pub path: PathBuf,
    /// File size [bytes].
    pub size_bytes: u64,
    /// `general.architecture`.
    pub architecture: String,
    /// Quantisation name (`Q4_1`, `F16`, …).
    pub quantization: String,
    /// Number of weights.
    pub parameter_count: u64,
    /// Training context length [tokens], 0 when the metadata does not say.
    pub context_length: u64,
    /// Last modification of the file.
    pub modified: SystemTime,
    /// Estimated resident memory when loaded [bytes] (see the module docs).
    pub memory_bytes: u64,
    /// The Jinja chat template in the file, if any.
    pub chat_template: Option<String>,
}

impl ModelEntry {
    /// Reads `path`'s metadata; `kv_tokens` is the context the engine will allocate (all slots).
    pub fn read(path: &Path, kv_tokens: u64) -> Result<Self, LoadError> {
        let g = GgufInfo::read(path)?;
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let id = path
            .file_stem()
            .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        Ok(ModelEntry {
            id,
            path: path.to_owned(),
            size_bytes: g.file_len,
            architecture: g.architecture().unwrap_or("unknown").to_owned(),
            quantization: g.quantization(),
            parameter_count: g.parameter_count(),
            context_length: g.context_length().unwrap_or(0),
            modified,
            memory_bytes: g.file_len + kv_cache_bytes(&g, kv_tokens) + scratch_bytes(&g),
            chat_template: g.chat_template().map(str::to_owned),
        })
    }
}

/// f16 K and V cache for `tokens` tokens: `2 · n_layer · tokens · n_embd · n_head_kv / n_head · 2`.
fn kv_cache_bytes(g: &GgufInfo, tokens: u64) -> u64 {
    let Some(arch) = g.architecture() else {
        return 0;
    };
    let key = |k: &str| g.get(&format!("{arch}.{k}")).and_then(|v| v.as_u64());
    let (Some(layers), Some(embd), Some(heads)) = (
        key("block_count"),
        key("embedding_length"),
        key("attention.head_count"),
    ) else {
        return 0;
    };
    let kv_heads = key("attention.head_count_kv").unwrap_or(heads);
    if heads == 0 {
        return 0;
    }
    2 * layers * tokens * (embd * kv_heads / heads) * 2
}

/// Tokens of the largest decode step (the engine's default `batch`).
const SCRATCH_BATCH: u64 = 512;

/// f32 compute scratch for one step of [`SCRATCH_BATCH`] tokens:
/// `4 · n_batch · (n_vocab + n_ff + 3 · n_embd)`; 0 when the metadata lacks the sizes.
fn scratch_bytes(g: &GgufInfo) -> u64 {
    let Some(arch) = g.architecture() else {
        return 0;
    };
    let key = |k: &str| g.get(&format!("{arch}.{k}")).and_then(|v| v.as_u64());
    let vocab = key("vocab_size").or_else(|| match g.get("tokenizer.ggml.tokens") {
        Some(crate::gguf::MetaValue::Array { len, .. }) => Some(*len),
        _ => None,
    });
    let (Some(vocab), Some(embd)) = (vocab, key("embedding_length")) else {
        return 0;
    };
    let ff = key("feed_forward_length").unwrap_or(4 * embd);
    4 * SCRATCH_BATCH * (vocab + ff + 3 * embd)
}

/// Why a model could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No model of that name.
    #[error("model `{model}` not found; available: {}", available.join(", "))]
    UnknownModel {
        /// The name asked for.
        model: String,
        /// The catalogue's ids.
        available: Vec<String>,
    },
    /// The model alone needs more memory than the budget.
    #[error(
        "model `{model}` needs about {} MiB but the memory budget is {} MiB",
        need_bytes >> 20, budget_bytes >> 20
    )]
    TooLarge {
        /// The model.
        model: String,
        /// Its estimate [bytes].
        need_bytes: u64,
        /// The budget [bytes].
        budget_bytes: u64,
    },
    /// The model would fit, but the resident models serving requests leave no room now.
    #[error(
        "model `{model}` needs about {} MiB; the memory budget of {} MiB is held by models \
         serving requests ({}); retry later",
        need_bytes >> 20, budget_bytes >> 20, busy.join(", ")
    )]
    NoRoom {
        /// The model.
        model: String,
        /// Its estimate [bytes].
        need_bytes: u64,
        /// The budget [bytes].
        budget_bytes: u64,
        /// Resident models that are in use.
        busy: Vec<String>,
    },
    /// Loading failed.
    #[error("cannot load model `{model}`: {source}")]
    Load {
        /// The model.
        model: String,
        /// Why.
        source: LoadError,
    },
    /// The models directory cannot be read or holds no usable GGUF file.
    #[error("models directory {}: {reason}", dir.display())]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Loads one catalogue entry into an engine.
pub type Loader = Box<dyn Fn(&ModelEntry) -> Result<Arc<dyn Engine>, LoadError> + Send + Sync>;

/// Registry options.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegistryConfig {
    /// Most memory the resident models may take [bytes]; `None` is unlimited.
    pub budget_bytes: Option<u64>,
    /// Keep-alive of requests that do not give one.
    pub default_keep_alive: KeepAlive,
}

/// A loaded model.
struct Resident {
    engine: Arc<dyn Engine>,
    bytes: u64,
    in_use: u32,
    last_used: Instant,
    keep_alive: KeepAlive,
    /// Loaded at start with `--model`: never expires or is evicted.
    pinned: bool,
}

impl Resident {
    /// When it unloads if nothing uses it; `None` is never.
    fn expires(&self, now: Instant) -> Option<Instant> {
        if self.pinned {
            return None;
        }
        match self.keep_alive {
            KeepAlive::Forever => None,
            KeepAlive::For(d) if self.in_use > 0 => Some(now + d),
            KeepAlive::For(d) => Some(self.last_used + d),
        }
    }
}

/// A resident model as reported by `/api/ps`.
#[derive(Debug, Clone)]
pub struct ResidentInfo {
    /// Model id.
    pub id: String,
    /// Accounted memory [bytes].
    pub memory_bytes: u64,
    /// Leases alive.
    pub in_use: u32,
    /// When it unloads if no request comes; `None` is never.
    pub expires_at: Option<SystemTime>,
    /// Its engine's occupancy.
    pub load: Load,
}

struct Inner {
    entries: Vec<ModelEntry>,
    loader: Loader,
    config: RegistryConfig,
    resident: Mutex<HashMap<String, Resident>>,
    /// Serialises loads, so that memory checked before a load is still free after it.
    loading: Mutex<()>,
}

/// The model catalogue and its resident engines; cheap to clone.
#[derive(Clone)]
pub struct Registry(Arc<Inner>);

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("models", &self.ids())
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// A registry over `entries` (sorted by id; later duplicates dropped).
    pub fn new(mut entries: Vec<ModelEntry>, loader: Loader, config: RegistryConfig) -> Self {
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        entries.dedup_by(|b, a| a.id == b.id);
        Registry(Arc::new(Inner {
            entries,
            loader,
            config,
            resident: Mutex::new(HashMap::new()),
            loading: Mutex::new(()),
        }))
    }

    /// Every `*.gguf` file in `dir`; files that are not valid GGUF are skipped with a warning.
    pub fn scan(
        dir: &Path,
        kv_tokens: u64,
        loader: Loader,
        config: RegistryConfig,
    ) -> Result<Self, RegistryError> {
        let err = |reason: String| RegistryError::Directory {
            dir: dir.to_owned(),
            reason,
        };
        let mut entries = Vec::new();
        for item in std::fs::read_dir(dir).map_err(|e| err(e.to_string()))? {
            let path = item.map_err(|e| err(e.to_string()))?.path();
            if path
                .extension()
                .is_none_or(|e| !e.eq_ignore_ascii_case("gguf"))
            {
                continue;
            }
            match ModelEntry::read(&path, kv_tokens) {
                Ok(e) => entries.push(e),
                Err(e) => tracing::warn!(file = %path.display(), "skipping: {e}"),
            }
        }
        if entries.is_empty() {
            return Err(err("holds no readable .gguf file".into()));
        }
        Ok(Self::new(entries, loader, config))
    }

    /// One engine, loaded already and resident for good (`--model FILE`).
    pub fn single(engine: Arc<dyn Engine>) -> Self {
        let m = engine.model();
        let entry = ModelEntry {
            id: m.id.clone(),
            path: PathBuf::new(),
            size_bytes: m.size_bytes,
            architecture: m.architecture.clone(),
            quantization: m.quantization.clone(),
            parameter_count: m.parameter_count,
            context_length: m.context_length,
            modified: SystemTime::now(),
            memory_bytes: m.size_bytes,
            chat_template: m.chat_template.clone(),
        };
        let id = entry.id.clone();
        let r = Self::new(
            vec![entry],
            Box::new(|e| {
                Err(LoadError::InvalidOption {
                    field: "model",
                    reason: format!("{} is pinned and never reloaded", e.id),
                })
            }),
            RegistryConfig::default(),
        );
        lock(&r.0.resident).insert(
            id,
            Resident {
                bytes: m.size_bytes,
                engine,
                in_use: 0,
                last_used: Instant::now(),
                keep_alive: KeepAlive::Forever,
                pinned: true,
            },
        );
        r
    }

    /// The catalogue, sorted by id.
    pub fn entries(&self) -> &[ModelEntry] {
        &self.0.entries
    }

    /// The catalogue's ids.
    pub fn ids(&self) -> Vec<String> {
        self.0.entries.iter().map(|e| e.id.clone()).collect()
    }

    /// The options.
    pub fn config(&self) -> &RegistryConfig {
        &self.0.config
    }

    /// The entry a request names: its id, the id with Ollama's `:latest` tag, or (no name)
    /// the first entry.
    pub fn resolve(&self, name: Option<&str>) -> Result<&ModelEntry, RegistryError> {
        let entries = &self.0.entries;
        match name.map(str::trim) {
            None | Some("") => entries.first().ok_or_else(|| RegistryError::UnknownModel {
                model: String::new(),
                available: Vec::new(),
            }),
            Some(n) => {
                let bare = n.strip_suffix(":latest").unwrap_or(n);
                entries
                    .iter()
                    .find(|e| e.id == n || e.id == bare)
                    .ok_or_else(|| RegistryError::UnknownModel {
                        model: n.to_owned(),
                        available: self.ids(),
                    })
            }
        }
    }

    /// A lease on the named model's engine, loading it (and evicting idle models) if needed.
    /// Blocking while a model loads: call it off async threads. `keep_alive` `None` uses the
    /// default.
    pub fn acquire(
        &self,
        name: Option<&str>,
        keep_alive: Option<KeepAlive>,
    ) -> Result<Lease, RegistryError> {
        let entry = self.resolve(name)?.clone();
        let keep_alive = keep_alive.unwrap_or(self.0.config.default_keep_alive);
        self.reap();
        if let Some(l) = self.try_resident(&entry.id, keep_alive) {
            return Ok(l);
        }
        let _loading = lock(&self.0.loading);
        if let Some(l) = self.try_resident(&entry.id, keep_alive) {
            return Ok(l);
        }
        let need = entry.memory_bytes;
        let mut evicted = Vec::new();
        if let Some(budget) = self.0.config.budget_bytes {
            if need > budget {
                return Err(RegistryError::TooLarge {
                    model: entry.id,
                    need_bytes: need,
                    budget_bytes: budget,
                });
            }
            let mut res = lock(&self.0.resident);
            loop {
                let used: u64 = res.values().map(|r| r.bytes).sum();
                if used + need <= budget {
                    break;
                }
                let victim = res
                    .iter()
                    .filter(|(_, r)| r.in_use == 0 && !r.pinned)
                    .min_by_key(|(_, r)| r.last_used)
                    .map(|(id, _)| id.clone());
                let Some(victim) = victim else {
                    let mut busy: Vec<String> = res.keys().cloned().collect();
                    busy.sort();
                    return Err(RegistryError::NoRoom {
                        model: entry.id,
                        need_bytes: need,
                        budget_bytes: budget,
                        busy,
                    });
                };
                tracing::info!(model = %victim, for_model = %entry.id, "evicting to fit the memory budget");
                evicted.extend(res.remove(&victim));
            }
        }
        // Engines are dropped (their threads told to stop) outside the lock.
        drop(evicted);
        let started = Instant::now();
        let engine = (self.0.loader)(&entry).map_err(|source| RegistryError::Load {
            model: entry.id.clone(),
            source,
        })?;
        tracing::info!(model = %entry.id, ms = started.elapsed().as_millis() as u64, "model loaded on demand");
        lock(&self.0.resident).insert(
            entry.id.clone(),
            Resident {
                engine: Arc::clone(&engine),
                bytes: need,
                in_use: 1,
                last_used: Instant::now(),
                keep_alive,
                pinned: false,
            },
        );
        Ok(Lease(Arc::new(LeaseInner {
            registry: self.clone(),
            id: entry.id,
            engine,
        })))
    }

    fn try_resident(&self, id: &str, keep_alive: KeepAlive) -> Option<Lease> {
        let mut res = lock(&self.0.resident);
        let r = res.get_mut(id)?;
        r.in_use += 1;
        r.keep_alive = keep_alive;
        r.last_used = Instant::now();
        Some(Lease(Arc::new(LeaseInner {
            registry: self.clone(),
            id: id.to_owned(),
            engine: Arc::clone(&r.engine),
        })))
    }

    /// Unloads idle models whose keep-alive has passed; returns their ids.
    pub fn reap(&self) -> Vec<String> {
        self.reap_at(Instant::now())
    }

    fn reap_at(&self, now: Instant) -> Vec<String> {
        let mut gone = Vec::new();
        let ids = {
            let mut res = lock(&self.0.resident);
            let expired: Vec<String> = res
                .iter()
                .filter(|(_, r)| r.in_use == 0 && r.expires(now).is_some_and(|t| t <= now))
                .map(|(id, _)| id.clone())
                .collect();
            for id in &expired {
                gone.extend(res.remove(id));
            }
            expired
        };
        for id in &ids {
            tracing::info!(model = %id, "unloaded after its keep-alive");
        }
        drop(gone);
        ids
    }

    /// The resident models, sorted by id.
    pub fn resident(&self) -> Vec<ResidentInfo> {
        let now = Instant::now();
        let wall = SystemTime::now();
        let res = lock(&self.0.resident);
        let mut v: Vec<ResidentInfo> = res
            .iter()
            .map(|(id, r)| ResidentInfo {
                id: id.clone(),
                memory_bytes: r.bytes,
                in_use: r.in_use,
                expires_at: r
                    .expires(now)
                    .map(|t| wall + t.saturating_duration_since(now)),
                load: r.engine.load(),
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Occupancy summed over the resident engines.
    pub fn load(&self) -> Load {
        let res = lock(&self.0.resident);
        res.values().fold(Load::default(), |mut acc, r| {
            let l = r.engine.load();
            acc.queued += l.queued;
            acc.active += l.active;
            acc.slots += l.slots;
            acc
        })
    }

    fn release(&self, id: &str) {
        let now = Instant::now();
        let gone = {
            let mut res = lock(&self.0.resident);
            let Some(r) = res.get_mut(id) else { return };
            r.in_use = r.in_use.saturating_sub(1);
            r.last_used = now;
            let expired = r.in_use == 0 && r.expires(now).is_some_and(|t| t <= now);
            if expired {
                res.remove(id)
            } else {
                None
            }
        };
        if gone.is_some() {
            tracing::info!(model = %id, "unloaded (keep_alive 0)");
        }
    }
}

struct LeaseInner {
    registry: Registry,
    id: String,
    engine: Arc<dyn Engine>,
}

impl Drop for LeaseInner {
    fn drop(&mut self) {
        self.registry.release(&self.id);
    }
}

/// A model held loaded for a request; clones share the hold, and the last one dropped starts
/// the model's keep-alive.
#[derive(Clone)]
pub struct Lease(Arc<LeaseInner>);

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Lease").field(&self.0.id).finish()
    }
}

impl Lease {
    /// The model id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<dyn Engine> {
        &self.0.engine
    }
}

#[cfg(test)]
mod tests;
