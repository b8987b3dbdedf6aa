//! The re-voting filter's transcripts (`docs/protocol/13-revoting.md` §6.8): a key-holder
//! uploads a style's transcript, the server checks it against the board and posts `filtered`
//! (`crate::filter`); anyone reads the accepted files as part of the record.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::body::UnreadBody;
use crate::extract::session::{Session, require_staff};
use crate::state::AppState;

/// `POST /api/v1/campaigns/{id}/filter/transcripts`, `GET …/record/filter/{i}.json`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/filter/transcripts", web::post().to(post_transcript))
        .route("/{id}/record/filter/{file}", web::get().to(get_transcript));
}

/// Checks a style's transcript against the board (outside any write transaction: the check is
/// long) and appends its `filtered` entry (one short write transaction). The caller's role is
/// checked before the body is read, one transcript is read and checked at a time (503 with
/// `Retry-After` while another is), and a style that has its entry is refused before its check.
/// 201 with the entry's index and the file's hash; 422 (`transcript`, `style`) for a transcript
/// that does not verify, saying the round and place; 409 when the campaign is not a closed v2
/// campaign, or the style has its entry already.
async fn post_transcript(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: UnreadBody,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::KeyHolder]).await?;
    let Ok(_permit) = state.filter_checks.clone().try_acquire_owned() else {
        return Err(ApiError::Unavailable("another filter transcript is being checked; try again shortly".into()));
    };
    let id = path.into_inner();
    let campaign = id.clone();
    let prepared = state.db.run(move |c| crate::filter::prepare(c, &campaign)).await?;
    let body = body.read_transcript(crate::filter::MAX_TRANSCRIPT_BYTES).await?;
    let checking = body.clone();
    let checked = web::block(move || crate::filter::check(&prepared, &checking).map(|checked| (prepared, checked)))
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("filter check: {e}")))?;
    let (prepared, checked) = match checked {
        Ok(c) => c,
        Err(e @ ApiError::Invalid { .. }) => {
            return Err(crate::refusal::refuse(
                &state,
                &req,
                Some(session.pin.as_str()),
                "filter_transcript_refused",
                e,
            )
            .await);
        }
        Err(e) => return Err(e),
    };
    let now = state.clock.now();
    let boards = state.boards.clone();
    let actor = session.pin.as_str().to_string();
    let accepted = state
        .db
        .write(move |c| crate::filter::accept(c, &boards, (&id, &actor), &prepared, &checked, &body, now))
        .await?;
    Ok(HttpResponse::Created().json(accepted))
}

/// `filter/<i>.json` of the record: the exact bytes of style i's accepted transcript (a
/// transcript is accepted only after closing, so nothing is served before). An accepted file
/// never changes: it is served with its SHA-256 as a strong `ETag` and cached for a year.
async fn get_transcript(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = path.into_inner();
    let index = file
        .strip_suffix(".json")
        .filter(|i| !i.is_empty() && i.len() <= 6 && i.bytes().all(|b| b.is_ascii_digit()))
        .filter(|i| i.len() == 1 || !i.starts_with('0'))
        .and_then(|i| i.parse::<usize>().ok())
        .ok_or_else(|| ApiError::NotFound("no such record file".into()))?;
    let (sha256, body) = state
        .db
        .run(move |c| crate::filter::transcript(c, &id, index))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such record file".into()))?;
    let etag = format!("\"{sha256}\"");
    let cached = req.headers().get(actix_web::http::header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if cached == Some(etag.as_str()) {
        return Ok(HttpResponse::NotModified().insert_header(("ETag", etag)).finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("ETag", etag))
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(body))
}
