//! Body extractors that answer every problem with a JSON 4xx naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body, size-limited (`server.max_json_bytes`) and decoded with the failing field's path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Reads the raw body under `limit` bytes, mapping overflow to 413.
pub async fn read_body(req: &HttpRequest, payload: &mut Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok())
        && len.parse::<usize>().map_or(true, |n| n > limit)
    {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    // The app-wide PayloadConfig allows the largest body of any route; this route's limit is
    // enforced here (Content-Length above, the actual length below).
    match web::Bytes::from_request(req, payload).await {
        Ok(b) if b.len() > limit => Err(ApiError::PayloadTooLarge { limit }),
        Ok(b) => Ok(b),
        Err(e) if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::PayloadTooLarge { limit })
        }
        Err(e) => Err(ApiError::Malformed { field: None, message: format!("could not read the body: {e}") }),
    }
}

/// The media type of the request without parameters, lowercased.
pub fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Decodes JSON, reporting the path of the failing field. A body that decodes is decoded once,
/// without keeping track of the path; only a failing one is decoded again to name its field
/// (the tracking was a tenth of decoding a ballot, docs/load.md §Less work per cast).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() { None } else { Some(path) };
        ApiError::Malformed { field, message: format!("invalid JSON body: {}", e.inner()) }
    })?;
    de.end().map_err(|e| ApiError::Malformed { field: None, message: format!("invalid JSON body: {e}") })?;
    Ok(value)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let mt = media_type(&req);
            if mt != "application/json" && !mt.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType("the body must be application/json".into()));
            }
            let limit = crate::state::state(&req)?.settings.server.max_json_bytes;
            let bytes = read_body(&req, &mut payload, limit).await?;
            decode_json(&bytes).map(ApiJson)
        })
    }
}

/// A raw body limited to `server.max_import_bytes` (voter-register imports).
#[derive(Debug)]
pub struct ImportBody(pub web::Bytes);

impl FromRequest for ImportBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = crate::state::state(&req)?.settings.server.max_import_bytes;
            read_body(&req, &mut payload, limit).await.map(ImportBody)
        })
    }
}
