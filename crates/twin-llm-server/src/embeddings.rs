//! OpenAI `POST /v1/embeddings`: `{"input": "text" | ["text", …]}` → one L2-normalised
//! vector per input, with the tokens read as usage. `encoding_format` is `float` (JSON
//! numbers) or `base64` (little-endian f32 bytes, what the official Python client asks for).

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;

use crate::{error::ApiError, infer::parse_body, respond, AppState};

/// Most inputs in one request.
const MAX_INPUTS: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddingsRequest {
    model: Option<String>,
    input: Input,
    encoding_format: Option<String>,
    /// Accepted for OpenAI compatibility; the vector has the model's size.
    #[allow(dead_code)]
    dimensions: Option<u32>,
    #[allow(dead_code)]
    user: Option<String>,
}

pub(crate) async fn embeddings(State(state): State<AppState>, body: Bytes) -> Response {
    respond(
        async {
            let req: EmbeddingsRequest = parse_body(&body)?;
            let model = state.model(req.model.as_deref(), None).await?;
            let base64 = match req.encoding_format.as_deref() {
                None | Some("float") => false,
                Some("base64") => true,
                Some(f) => {
                    return Err(ApiError::field(
                        "encoding_format",
                        format!("`{f}` is not supported; use `float` or `base64`"),
                    ))
                }
            };
            let inputs = match req.input {
                Input::One(s) => vec![s],
                Input::Many(v) => v,
            };
            if inputs.is_empty() || inputs.len() > MAX_INPUTS {
                return Err(ApiError::field(
                    "input",
                    format!("must hold 1 to {MAX_INPUTS} texts, got {}", inputs.len()),
                ));
            }
            let lease = model.clone();
            let (vectors, tokens) =
                tokio::task::spawn_blocking(move || lease.engine().embed(&inputs))
                    .await
                    .map_err(|_| ApiError::Unavailable)??;
            let data: Vec<_> = vectors
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let embedding = if base64 {
                        use base64::Engine as _;
                        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                        json!(base64::engine::general_purpose::STANDARD.encode(bytes))
                    } else {
                        json!(v)
                    };
                    json!({"object": "embedding", "index": i, "embedding": embedding})
                })
                .collect();
            Ok(Json(json!({
                "object": "list",
                "data": data,
                "model": model.id(),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }))
            .into_response())
        }
        .await,
    )
}
