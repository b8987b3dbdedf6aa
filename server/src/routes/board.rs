//! The public bulletin board API (docs/protocol/10-board.md §HTTP API), no login:
//! `/api/v1/campaigns/{id}/board/{head,heads,entries,inclusion,consistency}` and
//! `/api/v1/campaigns/{id}/package`.

use actix_web::{HttpResponse, web};
use dobush_crypto::board::Hash;
use dobush_crypto::record::{Board, HexHash};
use serde::Deserialize;
use serde_json::json;

use crate::board_log::{HeadsPage, load_heads_page};
use crate::error::ApiError;
use crate::models::load_campaign;
use crate::state::AppState;

/// At most this many entries per `entries` request.
pub const MAX_ENTRIES: u64 = 1000;
/// At most this many heads per `heads` request.
pub const MAX_HEADS: u64 = 1000;

/// Routes under `/api/v1/campaigns`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/package", web::get().to(package))
        .route("/{id}/board/head", web::get().to(head))
        .route("/{id}/board/heads", web::get().to(heads))
        .route("/{id}/board/entries", web::get().to(entries))
        .route("/{id}/board/inclusion", web::get().to(inclusion))
        .route("/{id}/board/consistency", web::get().to(consistency));
}

async fn package(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let boards = state.boards.clone();
    let e = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            boards.election(c, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(&e.package))
}

async fn read_heads(
    state: &AppState,
    id: String,
    page: HeadsPage,
) -> Result<Vec<dobush_crypto::board::SignedTreeHead>, ApiError> {
    let boards = state.boards.clone();
    state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            let e = boards.election(c, &id)?;
            load_heads_page(c, &id, e.package.base_hash, page)
        })
        .await
}

/// `GET …/board/head`: the latest head, one row read however long the board.
async fn head(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let heads = read_heads(&state, path.into_inner(), HeadsPage::Latest).await?;
    let last = heads
        .last()
        .ok_or_else(|| ApiError::NotFound("the board has no signed head yet (voting is not open)".into()))?;
    Ok(HttpResponse::Ok().json(last))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadsQuery {
    after: Option<u64>,
}

/// `GET …/board/heads[?after=N]`: at most [`MAX_HEADS`] heads, in order, of size greater than
/// `after` (from the first without it). A page shorter than [`MAX_HEADS`] ends the chain so far;
/// an observer follows the chain from the last head it kept (10-board.md §HTTP API).
async fn heads(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<HeadsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = HeadsPage::After { after: q.into_inner().after, limit: MAX_HEADS };
    Ok(HttpResponse::Ok().json(read_heads(&state, path.into_inner(), page).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    start: u64,
    end: u64,
}

async fn entries(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Range>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let Range { start, end } = q.into_inner();
    if end < start {
        return Err(ApiError::invalid("end", "must not be smaller than start"));
    }
    if end - start > MAX_ENTRIES {
        return Err(ApiError::invalid("end", format!("at most {MAX_ENTRIES} entries per request")));
    }
    let boards = state.boards.clone();
    let text = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            boards.read(c, &id, |b| {
                if end > b.size() {
                    return Err(ApiError::invalid("end", format!("the board has {} entries", b.size())));
                }
                let mut s = String::new();
                for l in b.lines().iter().skip(start as usize).take((end - start) as usize) {
                    s.push_str(l);
                    s.push('\n');
                }
                Ok(s)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().content_type("application/jsonl; charset=utf-8").body(text))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

/// Runs `f` on the campaign's board and answers `{"proof": [hex32]}`.
async fn proof_answer<F>(state: &AppState, id: String, f: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&Board) -> Result<Vec<Hash>, ApiError> + Send + 'static,
{
    let boards = state.boards.clone();
    let proof = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            boards.read(c, &id, f)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "proof": proof.into_iter().map(HexHash).collect::<Vec<_>>() })))
}

async fn inclusion(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let InclusionQuery { index, size } = q.into_inner();
    proof_answer(&state, path.into_inner(), move |b| {
        if size > b.size() {
            return Err(ApiError::invalid("size", format!("the board has {} entries", b.size())));
        }
        if index >= size {
            return Err(ApiError::invalid("index", "must be smaller than size"));
        }
        b.log().inclusion_proof(index, size).map_err(|e| ApiError::invalid("index", e.to_string()))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    first: u64,
    second: u64,
}

async fn consistency(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let ConsistencyQuery { first, second } = q.into_inner();
    proof_answer(&state, path.into_inner(), move |b| {
        if second > b.size() {
            return Err(ApiError::invalid("second", format!("the board has {} entries", b.size())));
        }
        if first > second {
            return Err(ApiError::invalid("first", "must not be larger than second"));
        }
        b.log().consistency_proof(first, second).map_err(|e| ApiError::invalid("first", e.to_string()))
    })
    .await
}
