//! Domain values: each is parsed once at the edge and cannot hold an invalid value afterwards.

pub mod campaign;
pub mod credential;
pub mod member_signature;
pub mod pin;
pub mod role;
pub mod text;
pub mod voter;

pub use campaign::{Action, CampaignKind, CampaignState, PrecinctKind, RevotePolicy};
pub use credential::PublicCredential;
pub use pin::Pin;
pub use role::Role;
