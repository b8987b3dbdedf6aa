//! The key ceremony of a campaign as a state machine on the server (`docs/protocol/06-dkg.md`,
//! `docs/server.md` §Key ceremony).
//!
//! The server is only the relay and the public record of the ceremony: it never holds a
//! polynomial, a share or a key-holder's secret key, and it cannot alter a message (each is
//! signed by its sender under the base context). What it does:
//!
//! 1. **Configuration** (CEC administrator): `t` of `n` and which staff member (role
//!    `key_holder`) holds which index. Reconfiguring after anything was posted starts a new
//!    attempt; earlier attempts' rows stay.
//! 2. **Registration**: each key-holder posts its own `KeyHolderPublic`. When all `n` are in,
//!    the base context hash is fixed (`context::base_hash`).
//! 3. **Round 1** signed commitment hashes, **round 2** signed reveals and encrypted shares,
//!    **round 3** each key-holder's (possibly empty) list of signed complaints. Every message is
//!    verified on arrival (signature under the base context by the sender's signing key, the
//!    sender is the caller's own index, shape, the reveal against the round-1 hash and its
//!    coefficient proofs, the share's proof of knowledge of its ephemeral key, complaints are
//!    adjudicated), stored write-once (the same message again is answered as a repeat,
//!    a different one is refused), and a message whose round's predecessor is incomplete is
//!    refused, naming what is missing.
//! 4. When the last round-3 list arrives, the transcript is evaluated with `dkg::evaluate`
//!    (the same code the key-holders' tool and the verifier's specification use) and the outcome
//!    is stored: qualified dealers, disqualifications, the joint key and every verification key.
//!    The joint key is then published (`campaigns.election_public_key`).
//!
//! [`setup`] is step 1, [`relay`] steps 2–4, [`store`] what is stored and what the election
//! package, the tally and the election record read, [`view`] the public state.

pub mod relay;
pub mod setup;
pub mod store;
pub mod view;
