//! Roles. Staff roles come from the `staff` table; "voter" means being on a campaign's register.

use serde::{Deserialize, Serialize};

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Central Election Commission administrator.
    CecAdmin,
    /// Territorial election commission administrator (scoped to a territory).
    TecAdmin,
    /// Holder of a share of the election key.
    KeyHolder,
    /// Observer (read-only access to the audit log and alerts).
    Observer,
    /// A voter on a campaign's register.
    Voter,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CecAdmin => "cec_admin",
            Self::TecAdmin => "tec_admin",
            Self::KeyHolder => "key_holder",
            Self::Observer => "observer",
            Self::Voter => "voter",
        }
    }

    /// Parses a staff role (voter is not a staff role).
    pub fn parse_staff(s: &str) -> Result<Self, String> {
        match s {
            "cec_admin" => Ok(Self::CecAdmin),
            "tec_admin" => Ok(Self::TecAdmin),
            "key_holder" => Ok(Self::KeyHolder),
            "observer" => Ok(Self::Observer),
            _ => Err("must be one of cec_admin, tec_admin, key_holder, observer".into()),
        }
    }
}
