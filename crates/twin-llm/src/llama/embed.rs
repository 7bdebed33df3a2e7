//! Embeddings: a second llama context with `embeddings = true` and mean pooling, owned by
//! its own thread (started on the first request), so that embedding never stalls the
//! generation scheduler.

use std::{
    num::NonZeroU32,
    sync::{mpsc, Arc},
    thread,
};

use llama_cpp_2::{
    context::params::{LlamaContextParams, LlamaPoolingType},
    llama_backend::LlamaBackend,
    llama_batch::LlamaBatch,
    model::LlamaModel,
    token::LlamaToken,
};

use crate::error::EngineError;

/// One request: token lists in, vectors out.
pub(super) struct Job {
    pub(super) inputs: Vec<Vec<LlamaToken>>,
    pub(super) reply: mpsc::Sender<Result<Vec<Vec<f32>>, EngineError>>,
}

/// Starts the embedding thread; its context holds `n_ctx` tokens (the longest input).
pub(super) fn start(
    backend: &'static LlamaBackend,
    model: Arc<LlamaModel>,
    n_ctx: u32,
    threads: u32,
) -> Result<mpsc::Sender<Job>, EngineError> {
    let (tx, rx) = mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::Builder::new()
        .name("twin-llm-embed".into())
        .spawn(move || {
            let params = LlamaContextParams::default()
                .with_n_ctx(NonZeroU32::new(n_ctx))
                .with_n_batch(n_ctx)
                .with_n_ubatch(n_ctx)
                .with_n_seq_max(1)
                .with_embeddings(true)
                .with_pooling_type(LlamaPoolingType::Mean)
                .with_n_threads(threads as i32)
                .with_n_threads_batch(threads as i32);
            let mut ctx = match model.new_context(backend, params) {
                Ok(c) => {
                    let _ = ready_tx.send(Ok(()));
                    c
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let mut batch = LlamaBatch::new(n_ctx as usize, 1);
            for job in rx {
                let mut out = Vec::with_capacity(job.inputs.len());
                let mut failed = None;
                for tokens in &job.inputs {
                    ctx.clear_kv_cache();
                    batch.clear();
                    let n = tokens.len();
                    let added = tokens
                        .iter()
                        .enumerate()
                        .try_for_each(|(i, t)| batch.add(*t, i as i32, &[0], i + 1 == n));
                    let v = added
                        .map_err(|e| e.to_string())
                        .and_then(|()| ctx.decode(&mut batch).map_err(|e| e.to_string()))
                        .and_then(|()| {
                            ctx.embeddings_seq_ith(0)
                                .map(<[f32]>::to_vec)
                                .map_err(|e| e.to_string())
                        });
                    match v {
                        Ok(mut v) => {
                            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                            if norm > 0.0 {
                                v.iter_mut().for_each(|x| *x /= norm);
                            }
                            out.push(v);
                        }
                        Err(reason) => {
                            failed = Some(EngineError::Decode { reason });
                            break;
                        }
                    }
                }
                let _ = job.reply.send(failed.map_or(Ok(out), Err));
            }
        })
        .map_err(|e| EngineError::Decode {
            reason: format!("cannot start the embedding thread: {e}"),
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(tx),
        Ok(Err(reason)) => Err(EngineError::Decode {
            reason: format!("cannot create an embedding context: {reason}"),
        }),
        Err(_) => Err(EngineError::Stopped),
    }
}
