//! Session revocation: a logout ends its session on every server sharing the database.
//!
//! A session token stays a stateless JWT (`super::session`), but its `jti` is looked up in
//! `session_revocations` on every authenticated request (`extract::session`), so a token copied
//! before its logout (a replayed cookie) is refused with 401 until it would have expired anyway.

use diesel::prelude::*;

use crate::auth::session::SessionClaims;
use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::session_revocations;

/// Whether the session with token id `jti` was revoked.
pub fn is_revoked(c: &mut AnyConnection, jti: &str) -> Result<bool, ApiError> {
    let n: i64 = session_revocations::table.filter(session_revocations::jti.eq(jti)).count().get_result(c)?;
    Ok(n > 0)
}

/// Revokes the session of `claims` at `now` (idempotent), and forgets revocations of tokens that
/// have expired by now (they are refused as expired anyway).
pub fn revoke(c: &mut AnyConnection, claims: &SessionClaims, now: i64) -> Result<(), ApiError> {
    diesel::delete(session_revocations::table.filter(session_revocations::expires_at.lt(now))).execute(c)?;
    if is_revoked(c, &claims.jti)? {
        return Ok(());
    }
    diesel::insert_into(session_revocations::table)
        .values((
            session_revocations::jti.eq(&claims.jti),
            session_revocations::revoked_at.eq(now),
            session_revocations::expires_at.eq(claims.exp),
        ))
        .execute(c)?;
    Ok(())
}
