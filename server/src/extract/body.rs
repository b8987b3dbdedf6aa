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

/// Reads the body under `limit` bytes, mapping overflow to 413 and a body slower than
/// `server.client_body_timeout_secs` to 408.
///
/// The limit holds on the wire *and* after decompression, and nothing is inflated beyond it: the
/// raw (compressed) bytes are read up to `limit`, then a `gzip` or `deflate` body is inflated into
/// at most `limit + 1` bytes. Other content codings are refused (415). (actix-web's own body
/// extractors inflate each received chunk whole before comparing with the limit, so a few
/// kilobytes of gzip could become many megabytes in memory.)
pub async fn read_body(req: &HttpRequest, payload: &mut Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok())
        && len.parse::<usize>().map_or(true, |n| n > limit)
    {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let coding = content_coding(req)?;
    let secs = crate::state::state(req)?.settings.server.client_body_timeout_secs;
    let raw = web::Payload::from_request(req, payload)
        .await
        .map_err(|e| ApiError::Malformed { field: None, message: format!("could not read the body: {e}") })?;
    let wire = match tokio::time::timeout(std::time::Duration::from_secs(secs), raw.to_bytes_limited(limit)).await {
        Err(_) => return Err(ApiError::RequestTimeout { secs }),
        Ok(Err(_)) => return Err(ApiError::PayloadTooLarge { limit }),
        Ok(Ok(Err(e))) => {
            return Err(ApiError::Malformed { field: None, message: format!("could not read the body: {e}") });
        }
        Ok(Ok(Ok(bytes))) => bytes,
    };
    match coding {
        Coding::Identity => Ok(wire),
        Coding::Gzip => inflate(flate2::read::GzDecoder::new(&wire[..]), limit),
        Coding::Deflate => inflate(flate2::read::ZlibDecoder::new(&wire[..]), limit),
    }
}

/// The content codings a request body may have.
enum Coding {
    Identity,
    Gzip,
    Deflate,
}

fn content_coding(req: &HttpRequest) -> Result<Coding, ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_ENCODING) else { return Ok(Coding::Identity) };
    match value.to_str().map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Ok("" | "identity") => Ok(Coding::Identity),
        Ok("gzip" | "x-gzip") => Ok(Coding::Gzip),
        Ok("deflate") => Ok(Coding::Deflate),
        _ => Err(ApiError::UnsupportedMediaType(
            "the request body's Content-Encoding must be identity, gzip or deflate".into(),
        )),
    }
}

/// Inflates at most `limit + 1` bytes: one more than the limit means the body is too large.
fn inflate(decoder: impl std::io::Read, limit: usize) -> Result<web::Bytes, ApiError> {
    use std::io::Read;
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder.take(cap).read_to_end(&mut out).map_err(|e| ApiError::Malformed {
        field: None,
        message: format!("the compressed body does not decompress: {e}"),
    })?;
    if out.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(web::Bytes::from(out))
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

/// A small body (under `server.max_json_bytes`) through [`read_body`], once its media type
/// passes `accept` (otherwise 415, saying it must be `expected`).
async fn small_body(
    req: &HttpRequest,
    payload: &mut Payload,
    accept: fn(&str) -> bool,
    expected: &str,
) -> Result<web::Bytes, ApiError> {
    if !accept(&media_type(req)) {
        return Err(ApiError::UnsupportedMediaType(format!("the body must be {expected}")));
    }
    let limit = crate::state::state(req)?.settings.server.max_json_bytes;
    read_body(req, payload, limit).await
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = JsonBytes::from_request(req, payload);
        Box::pin(async move { decode_json(&bytes.await?.0).map(ApiJson) })
    }
}

/// A JSON body's bytes, read exactly as [`ApiJson`] reads them (media type, size limit, timeout,
/// bounded inflation) and left for the handler to decode with [`decode_json`], for a route whose
/// body has two forms (the cast of a v1 or a v2 ballot).
#[derive(Debug)]
pub struct JsonBytes(pub web::Bytes);

impl FromRequest for JsonBytes {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, mut payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let json = |mt: &str| mt == "application/json" || mt.ends_with("+json");
            small_body(&req, &mut payload, json, "application/json").await.map(JsonBytes)
        })
    }
}

/// A URL-encoded form body (the identity provider's form_post to `/auth/callback`), read like a
/// JSON body through [`read_body`]: `server.max_json_bytes`, the body timeout, bounded inflation
/// (actix-web's `web::Form` had no body timeout: review 18-hardening H1).
#[derive(Debug)]
pub struct ApiForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiForm<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, mut payload) = (req.clone(), payload.take());
        Box::pin(async move {
            const FORM: &str = "application/x-www-form-urlencoded";
            let bytes = small_body(&req, &mut payload, |mt| mt == FORM, FORM).await?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| ApiError::Malformed { field: None, message: "the form body is not UTF-8".into() })?;
            // a form body is a query string (application/x-www-form-urlencoded)
            web::Query::<T>::from_query(text)
                .map(|q| ApiForm(q.into_inner()))
                .map_err(|e| ApiError::Malformed { field: None, message: format!("invalid form body: {e}") })
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

/// A body not read yet: the handler checks the caller first and reads it only then
/// ([`UnreadBody::read_transcript`]), so that no one without the role makes the server read a large
/// body (review 19-filtered H1).
pub struct UnreadBody {
    req: HttpRequest,
    payload: Payload,
}

impl FromRequest for UnreadBody {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self { req: req.clone(), payload: payload.take() }))
    }
}

impl UnreadBody {
    /// A filter transcript file's exact bytes (`application/json`, uncompressed: its bytes are
    /// what the record publishes, and the limit then holds on the wire; 415 otherwise), under
    /// `limit` (413).
    pub async fn read_transcript(mut self, limit: usize) -> Result<web::Bytes, ApiError> {
        if media_type(&self.req) != "application/json" {
            return Err(ApiError::UnsupportedMediaType("the body must be application/json".into()));
        }
        if self.req.headers().contains_key(header::CONTENT_ENCODING) {
            return Err(ApiError::UnsupportedMediaType("a filter transcript is sent uncompressed".into()));
        }
        read_body(&self.req, &mut self.payload, limit).await
    }
}
