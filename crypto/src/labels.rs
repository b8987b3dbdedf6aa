//! Every label used in a Merlin transcript or a hash, in one place.
//! `docs/protocol/02-transcripts.md` lists them with their meaning; keep the two in step.

/// The protocol version string, appended first to every context hash.
pub const PROTOCOL_VERSION: &[u8] = b"dobush/1";
/// The name of the group, bound into the base context.
pub const GROUP_NAME: &[u8] = b"ristretto255";

/// The label with which every Merlin transcript of the protocol is created.
pub const TRANSCRIPT: &[u8] = b"dobush/v1";
/// The label of a domain-separator message.
pub const DOM_SEP: &[u8] = b"dom-sep";

/// Published label of the Pedersen generator `H` (hash-to-group input).
pub const GENERATOR_H: &[u8] = b"dobush/v1/generator/H";

// Domain separators (the value appended under DOM_SEP).
/// Manifest hash.
pub const DS_MANIFEST: &[u8] = b"manifest";
/// Base context hash.
pub const DS_BASE_CONTEXT: &[u8] = b"base-context";
/// Extended context hash.
pub const DS_EXTENDED_CONTEXT: &[u8] = b"extended-context";
/// Ballot proofs prefix.
pub const DS_BALLOT: &[u8] = b"ballot";
/// Per-selection 0/1 proof.
pub const DS_SELECTION: &[u8] = b"selection-proof";
/// Per-contest count proof (disjunctive over the weighted sum).
pub const DS_COUNT: &[u8] = b"count-proof";
/// Per-contest count proof with a bulletproofs range proof.
pub const DS_COUNT_RANGE: &[u8] = b"count-range-proof";
/// Body hash of a ballot.
pub const DS_BALLOT_BODY: &[u8] = b"ballot-body";
/// Signature of a ballot by its credential.
pub const DS_BALLOT_SIGNATURE: &[u8] = b"ballot-signature";
/// Tracking code.
pub const DS_TRACKING_CODE: &[u8] = b"tracking-code";
/// Schnorr signature (inside the signed transcript).
pub const DS_SIGNATURE: &[u8] = b"schnorr-signature";
/// Schnorr proof of knowledge of a DKG coefficient.
pub const DS_DKG_COEFFICIENT: &[u8] = b"dkg-coefficient";
/// Commitment hash of a key-holder's DKG commitments (commit-then-reveal).
pub const DS_DKG_COMMIT: &[u8] = b"dkg-commitment-hash";
/// Key derivation for an encrypted DKG share.
pub const DS_DKG_SHARE_KEY: &[u8] = b"dkg-share-key";
/// Proof that a complaint reveals the right Diffie–Hellman secret.
pub const DS_DKG_COMPLAINT: &[u8] = b"dkg-complaint";
/// Signed DKG message.
pub const DS_DKG_MESSAGE: &[u8] = b"dkg-message";
/// Partial decryption proof.
pub const DS_DECRYPTION_SHARE: &[u8] = b"decryption-share";
/// A key-holder's signature over its decryption share (07-threshold.md §Share signature).
pub const DS_DECRYPTION_SHARE_SIGNATURE: &[u8] = b"decryption-share-signature";
/// Proof of a shuffle of rows of ciphertexts (`docs/protocol/12-shuffle.md`).
pub const DS_SHUFFLE: &[u8] = b"shuffle";
/// Hash-to-group prefix of the shuffle's permutation-commitment generators `h_i` (12-shuffle.md, SH-G1).
pub const SHUFFLE_GENERATOR: &[u8] = b"dobush/v1/shuffle/generator";
/// Hash-to-group prefix of the base `ĥ` of the shuffle's commitment chain (12-shuffle.md, SH-G2).
pub const SHUFFLE_CHAIN_BASE: &[u8] = b"dobush/v1/shuffle/chain-base";
/// SHA-512 prefix of the shuffle's per-row challenges `u_j` (12-shuffle.md, SH-C1).
pub const SHUFFLE_CHALLENGE: &[u8] = b"dobush/v1/shuffle/u";
/// Credential secret derivation from the recovery seed.
pub const CREDENTIAL_SEED: &[u8] = b"dobush/v1/credential-seed";
/// Fingerprints of public keys shown to people.
pub const FINGERPRINT: &[u8] = b"dobush/v1/fingerprint";
/// Domain of the credential-list digest the commission signs (10-board.md §Credential list signatures).
pub const CREDENTIAL_LIST_DIGEST: &[u8] = b"dobush/v1/credential-list";
/// Domain of the v2 credential-list digest (a `credential_list_v2` entry; 10-board.md
/// §Credential list signatures, 13-revoting.md §4.2).
pub const CREDENTIAL_LIST_DIGEST_V2: &[u8] = b"dobush/v2/credential-list";
/// SHA-256 prefix of the digest commission members sign for a credential replacement
/// (`docs/protocol/10-board.md` §Credential replacement signatures).
pub const CREDENTIAL_REPLACEMENT_DIGEST: &[u8] = b"dobush/v1/credential-replacement";
/// Domain of the v2 replacement digest (13-revoting.md §4.3).
pub const CREDENTIAL_REPLACEMENT_DIGEST_V2: &[u8] = b"dobush/v2/credential-replacement";
/// Domain of the electronic protocol's digest the commission members sign (11-election-protocol.md).
pub const PROTOCOL_DIGEST: &[u8] = b"dobush/v1/protocol";
/// SHA-256 prefix of the digest of a record's decryption shares, which the protocol binds
/// (07-threshold.md §Share list digest).
pub const DECRYPTION_SHARES_DIGEST: &[u8] = b"dobush/v2/decryption-shares";
/// Domain of the ШМТ export's digest the board key signs (docs/shmt-export.md).
pub const SHMT_EXPORT_DIGEST: &[u8] = b"dobush/v1/shmt-export";

// Threshold keys (`docs/protocol/06-dkg.md`, `docs/protocol/07-threshold.md`).
/// Kind of a signed DKG message (appended under `kind`): round-1 commitment hash.
pub const DKG_KIND_COMMITMENT_HASH: &str = "commitment-hash";
/// Kind of a signed DKG message: round-2 reveal of the Feldman commitments and their proofs.
pub const DKG_KIND_REVEAL: &str = "reveal";
/// Kind of a signed DKG message: a share encrypted to its recipient.
pub const DKG_KIND_ENCRYPTED_SHARE: &str = "encrypted-share";
/// Kind of a signed DKG message: a complaint against a dealer.
pub const DKG_KIND_COMPLAINT: &str = "complaint";
/// Fingerprint kind of a key-holder's signing key.
pub const FP_KEY_HOLDER_SIGNING: &str = "key-holder-signing";
/// Fingerprint kind of a key-holder's communication key.
pub const FP_KEY_HOLDER_COMM: &str = "key-holder-communication";
/// Fingerprint kind of the joint election key.
pub const FP_JOINT_KEY: &str = "joint-key";
/// Fingerprint kind of an election package, over its 32-byte extended hash (09-credentials.md
/// §Fingerprint): what the voter's app shows to compare with the commission's publication.
pub const FP_ELECTION_PACKAGE: &str = "election-package";
/// Fingerprint kind of a commission member's signing identity (14-commission.md §Member
/// fingerprints).
pub const FP_COMMISSION_MEMBER: &str = "commission-member";
/// Proof of knowledge of an encrypted DKG share's ephemeral secret `e` (signed ElGamal).
pub const DS_DKG_SHARE_EPHEMERAL: &[u8] = b"dkg-share-ephemeral";

// Message labels: the label of every `append_*` and challenge in a transcript. The protocol
// documents list each with its message (docs/protocol/02-transcripts.md §Message labels).
/// Message label `a`.
pub const L_A: &[u8] = b"a";
/// Message label `a1`.
pub const L_A1: &[u8] = b"a1";
/// Message label `a2`.
pub const L_A2: &[u8] = b"a2";
/// Message label `a3`.
pub const L_A3: &[u8] = b"a3";
/// Message label `against-all`.
pub const L_AGAINST_ALL: &[u8] = b"against-all";
/// Message label `alpha`.
pub const L_ALPHA: &[u8] = b"alpha";
/// Message label `b`.
pub const L_B: &[u8] = b"b";
/// Message label `ballot-id`.
pub const L_BALLOT_ID: &[u8] = b"ballot-id";
/// Message label `base-hash`.
pub const L_BASE_HASH: &[u8] = b"base-hash";
/// Message label `beta`.
pub const L_BETA: &[u8] = b"beta";
/// Message label `blank-allowed`.
pub const L_BLANK_ALLOWED: &[u8] = b"blank-allowed";
/// Message label `body-hash`.
pub const L_BODY_HASH: &[u8] = b"body-hash";
/// Message label `branches`.
pub const L_BRANCHES: &[u8] = b"branches";
/// Message label `bulletproof`.
pub const L_BULLETPROOF: &[u8] = b"bulletproof";
/// Message label `c`.
pub const L_C: &[u8] = b"c";
/// Message label `campaign`.
pub const L_CAMPAIGN: &[u8] = b"campaign";
/// Message label `A`.
pub const L_CAP_A: &[u8] = b"A";
/// Message label `A1`.
pub const L_CAP_A1: &[u8] = b"A1";
/// Message label `A2`.
pub const L_CAP_A2: &[u8] = b"A2";
/// Message label `A3`.
pub const L_CAP_A3: &[u8] = b"A3";
/// Message label `B`.
pub const L_CAP_B: &[u8] = b"B";
/// Message label `C`.
pub const L_CAP_C: &[u8] = b"C";
/// Message label `D`.
pub const L_CAP_D: &[u8] = b"D";
/// Message label `E`.
pub const L_CAP_E: &[u8] = b"E";
/// Message label `G`.
pub const L_CAP_G: &[u8] = b"G";
/// Message label `H`.
pub const L_CAP_H: &[u8] = b"H";
/// Message label `K`.
pub const L_CAP_K: &[u8] = b"K";
/// Message label `P`.
pub const L_CAP_P: &[u8] = b"P";
/// Message label `R`.
pub const L_CAP_R: &[u8] = b"R";
/// Message label `S`.
pub const L_CAP_S: &[u8] = b"S";
/// Message label `V1`.
pub const L_CAP_V1: &[u8] = b"V1";
/// Message label `VK`.
pub const L_CAP_VK: &[u8] = b"VK";
/// Message label `X`.
pub const L_CAP_X: &[u8] = b"X";
/// Message label `Y`.
pub const L_CAP_Y: &[u8] = b"Y";
/// Message label `ciphertext`.
pub const L_CIPHERTEXT: &[u8] = b"ciphertext";
/// Message label `commitment-hash`.
pub const L_COMMITMENT_HASH: &[u8] = b"commitment-hash";
/// Message label `comm-key`.
pub const L_COMM_KEY: &[u8] = b"comm-key";
/// Message label `complainer`.
pub const L_COMPLAINER: &[u8] = b"complainer";
/// Message label `contest`.
pub const L_CONTEST: &[u8] = b"contest";
/// Message label `contests`.
pub const L_CONTESTS: &[u8] = b"contests";
/// Message label `contest-id`.
pub const L_CONTEST_ID: &[u8] = b"contest-id";
/// Message label `context`.
pub const L_CONTEXT: &[u8] = b"context";
/// Message label `count`.
pub const L_COUNT: &[u8] = b"count";
/// Message label `count-kind`.
pub const L_COUNT_KIND: &[u8] = b"count-kind";
/// Message label `credential`.
pub const L_CREDENTIAL: &[u8] = b"credential";
/// Message label `dealer`.
pub const L_DEALER: &[u8] = b"dealer";
/// Message label `extended-hash`.
pub const L_EXTENDED_HASH: &[u8] = b"extended-hash";
/// Message label `group`.
pub const L_GROUP: &[u8] = b"group";
/// Message label `hash`.
pub const L_HASH: &[u8] = b"hash";
/// Message label `j`.
pub const L_J: &[u8] = b"j";
/// Message label `joint-key`.
pub const L_JOINT_KEY: &[u8] = b"joint-key";
/// Message label `key`.
pub const L_KEY: &[u8] = b"key";
/// Message label `key-holder`.
pub const L_KEY_HOLDER: &[u8] = b"key-holder";
/// Message label `kind`.
pub const L_KIND: &[u8] = b"kind";
/// Message label `lang`.
pub const L_LANG: &[u8] = b"lang";
/// Message label `manifest-hash`.
pub const L_MANIFEST_HASH: &[u8] = b"manifest-hash";
/// Message label `max`.
pub const L_MAX: &[u8] = b"max";
/// Message label `message`.
pub const L_MESSAGE: &[u8] = b"message";
/// Message label `min`.
pub const L_MIN: &[u8] = b"min";
/// Message label `n`.
pub const L_N: &[u8] = b"n";
/// Message label `option`.
pub const L_OPTION: &[u8] = b"option";
/// Message label `options`.
pub const L_OPTIONS: &[u8] = b"options";
/// Message label `option-id`.
pub const L_OPTION_ID: &[u8] = b"option-id";
/// Message label `pk`.
pub const L_PK: &[u8] = b"pk";
/// Message label `recipient`.
pub const L_RECIPIENT: &[u8] = b"recipient";
/// Message label `selection`.
pub const L_SELECTION: &[u8] = b"selection";
/// Message label `selections`.
pub const L_SELECTIONS: &[u8] = b"selections";
/// Message label `sender`.
pub const L_SENDER: &[u8] = b"sender";
/// Message label `signature`.
pub const L_SIGNATURE: &[u8] = b"signature";
/// Message label `signer`.
pub const L_SIGNER: &[u8] = b"signer";
/// Message label `signing-key`.
pub const L_SIGNING_KEY: &[u8] = b"signing-key";
/// Message label `style`.
pub const L_STYLE: &[u8] = b"style";
/// Message label `styles`.
pub const L_STYLES: &[u8] = b"styles";
/// Message label `style-contests`.
pub const L_STYLE_CONTESTS: &[u8] = b"style-contests";
/// Message label `style-id`.
pub const L_STYLE_ID: &[u8] = b"style-id";
/// Message label `t`.
pub const L_T: &[u8] = b"t";
/// Message label `text`.
pub const L_TEXT: &[u8] = b"text";
/// Message label `texts`.
pub const L_TEXTS: &[u8] = b"texts";
/// Message label `tracking-code`.
pub const L_TRACKING_CODE: &[u8] = b"tracking-code";
/// Message label `v1`.
pub const L_V1: &[u8] = b"v1";
/// Message label `value`.
pub const L_VALUE: &[u8] = b"value";
/// Message label `values`.
pub const L_VALUES: &[u8] = b"values";
/// Message label `version`.
pub const L_VERSION: &[u8] = b"version";
/// Message label `weight`.
pub const L_WEIGHT: &[u8] = b"weight";
/// Message label `weights`.
pub const L_WEIGHTS: &[u8] = b"weights";
/// Message label `z`.
pub const L_Z: &[u8] = b"z";
/// Message label `zr`.
pub const L_ZR: &[u8] = b"zr";
/// Message label `zs`.
pub const L_ZS: &[u8] = b"zs";
/// Message label `zx`.
pub const L_ZX: &[u8] = b"zx";
// Message labels of the shuffle proof (docs/protocol/12-shuffle.md §Transcript and challenges).
/// Message label `cc`.
pub const L_CC: &[u8] = b"cc";
/// Message label `pc`.
pub const L_PC: &[u8] = b"pc";
/// Message label `purpose`.
pub const L_PURPOSE: &[u8] = b"purpose";
/// Message label `rows`.
pub const L_ROWS: &[u8] = b"rows";
/// Message label `t1`.
pub const L_T1: &[u8] = b"t1";
/// Message label `t2`.
pub const L_T2: &[u8] = b"t2";
/// Message label `t3`.
pub const L_T3: &[u8] = b"t3";
/// Message label `t4a`.
pub const L_T4A: &[u8] = b"t4a";
/// Message label `t4b`.
pub const L_T4B: &[u8] = b"t4b";
/// Message label `th`.
pub const L_TH: &[u8] = b"th";
/// Message label `u`.
pub const L_U: &[u8] = b"u";
/// Message label `width`.
pub const L_WIDTH: &[u8] = b"width";

// The filter's building blocks (docs/protocol/13-revoting.md §7, §9.3).
/// Batched Chaum–Pedersen proof of the filter (13-revoting.md §9.3).
pub const DS_BATCHED_DLEQ: &[u8] = b"batched-dleq";
/// A member's proof of its private round-1 shares, designated to the coordinator
/// (13-revoting.md §7.2).
pub const DS_FILTER_VIEW: &[u8] = b"filter-view";
/// Message label `designated`: the coordinator's key `Z_c` in a designated proof (§7.2).
pub const L_DESIGNATED: &[u8] = b"designated";
/// The weights of sanitation's conjunctive tests (13-revoting.md §7.3, SN-0).
pub const DS_SANITIZE_WEIGHTS: &[u8] = b"sanitize-weights";
/// Message label `index`: a board index.
pub const L_INDEX: &[u8] = b"index";
/// Message label `tag-base`: a claimed tag base (13-revoting.md §7.3).
pub const L_TAG_BASE: &[u8] = b"tag-base";
/// Challenge label `w`: a conjunctive test's weight (13-revoting.md §7.3, SN-0).
pub const L_W: &[u8] = b"w";
/// Schnorr proof of a filter key share (13-revoting.md §7.1).
pub const DS_FILTER_KEY: &[u8] = b"filter-key";
/// Message label `run`: the filter run (13-revoting.md §6).
pub const L_RUN: &[u8] = b"run";
/// Message label `member`: a member of the filter quorum F, or a commission member's 1-based
/// position (14-commission.md).
pub const L_MEMBER: &[u8] = b"member";
/// Message label `filter`: the size of the filter quorum F.
pub const L_FILTER: &[u8] = b"filter";
/// A signed round message of the filter (13-revoting.md §6.3).
pub const DS_FILTER_MESSAGE: &[u8] = b"filter-message";
/// Message label `round`: a filter round message's round (13-revoting.md §6.3).
pub const L_ROUND: &[u8] = b"round";
/// Message label `opening`: a filter run's opening nonce O (13-revoting.md §6.3, §6.5).
pub const L_OPENING: &[u8] = b"opening";
/// Message label `previous`: the chain digest a filter round message names (13-revoting.md §6.3).
pub const L_PREVIOUS: &[u8] = b"previous";
/// Message label `body-size`: the byte size of a filter round message's body (13-revoting.md §6.3).
pub const L_BODY_SIZE: &[u8] = b"body-size";
/// Message label `body`: the SHA-256 of a filter round message's body (13-revoting.md §6.3).
pub const L_BODY: &[u8] = b"body";
/// SHA-256 prefix of a filter round's chain digest (13-revoting.md §6.3).
pub const FILTER_ROUND_DIGEST: &[u8] = b"dobush/v2/filter-round";
/// Message label `prover`: the member of F who proves a filter key share (13-revoting.md §7.1).
pub const L_PROVER: &[u8] = b"prover";
/// Message label `station`: the station of a station tag key share (13-revoting.md §7.1).
pub const L_STATION: &[u8] = b"station";
/// Message label `Q`: an image `Q_i = y·P_i` in a batched Chaum–Pedersen proof.
pub const L_CAP_Q: &[u8] = b"Q";
// The pinned commission (docs/protocol/14-commission.md §Binding).
/// Domain separator of the commission hash.
pub const DS_COMMISSION: &[u8] = b"commission";
/// Message label `name` (a member's name as printed).
pub const L_NAME: &[u8] = b"name";
/// Message label `role`.
pub const L_ROLE: &[u8] = b"role";
/// Message label `identity-kind` (`ed25519`).
pub const L_IDENTITY_KIND: &[u8] = b"identity-kind";
/// Message label `identity` (the identity's bytes).
pub const L_IDENTITY: &[u8] = b"identity";
/// Message label `quorum-act`.
pub const L_QUORUM_ACT: &[u8] = b"quorum-act";
/// Message label `quorum`.
pub const L_QUORUM: &[u8] = b"quorum";
/// Message label and challenge label `commission-hash`.
pub const L_COMMISSION_HASH: &[u8] = b"commission-hash";
// The package's parameters (docs/protocol/02-transcripts.md §Parameters hash).
/// Domain separator of the parameters hash.
pub const DS_PARAMETERS: &[u8] = b"package-parameters";
/// Message label `board-key` (the board's Ed25519 public key).
pub const L_BOARD_KEY: &[u8] = b"board-key";
/// Message label `re-vote-policy` (`forbidden` or `last_counts`).
pub const L_RE_VOTE_POLICY: &[u8] = b"re-vote-policy";
/// Message label `ballot-format` (`v2`; absent for a v1 campaign).
pub const L_BALLOT_FORMAT: &[u8] = b"ballot-format";
/// Point label `cast-verifier-key` (Y_S of 13-revoting.md §3.4; v2 only).
pub const L_CAST_VERIFIER_KEY: &[u8] = b"cast-verifier-key";
/// Message label and challenge label `parameters-hash`.
pub const L_PARAMETERS_HASH: &[u8] = b"parameters-hash";
// The filter's selection proofs (13-revoting.md §7.10).
/// Domain separator of a chunk of the selection's aggregated range proofs.
pub const DS_FILTER_SELECTION: &[u8] = b"filter-selection";
/// Message label `chunk` (the index of a chunk of comparisons).
pub const L_CHUNK: &[u8] = b"chunk";
// The voter's side of the v2 ballot (docs/protocol/13-revoting.md §2, §3).
/// Hash-to-group prefix of the tag base `TB(X)` (13-revoting.md §2).
pub const TAG_BASE: &[u8] = b"dobush/v2/tag-base";
/// SHA-256 prefix of the PIN commitment `pc` (13-revoting.md §3.3).
pub const PIN_COMMITMENT: &[u8] = b"dobush/v2/pin-commitment";
/// Domain separator of the credential proof CR-1 … CR-3 (13-revoting.md §3.2).
pub const DS_CREDENTIAL_PROOF: &[u8] = b"credential-proof";
/// Domain separator of the registration binding the credential signs (13-revoting.md §3.3).
pub const DS_REGISTRATION_BINDING: &[u8] = b"registration-binding";
/// Domain separator of the designated-verifier cast opening (13-revoting.md §3.4).
pub const DS_CAST_OPENING: &[u8] = b"cast-opening";
/// Domain separator of the proof of knowledge of a board entry's nonce (old_tbase of a v2
/// replacement, 13-revoting.md §4.2).
pub const DS_ENTRY_NONCE: &[u8] = b"entry-nonce";
/// Message label `digest` (the entry-nonce proof: the entry's digest).
pub const L_DIGEST: &[u8] = b"digest";
/// Message label `credential-proof`: the 192-byte credential proof in the v2 tracking code.
pub const L_CREDENTIAL_PROOF: &[u8] = b"credential-proof";
/// Message label `pin` (registration binding).
pub const L_PIN: &[u8] = b"pin";
/// Message label `salt` (registration binding).
pub const L_SALT: &[u8] = b"salt";
/// Message label `decision` (registration binding; empty at application).
pub const L_DECISION: &[u8] = b"decision";
/// Message label `cred-alpha`: `cred.α`, in the statement of the credential proof and the cast
/// opening (13-revoting.md §3.1, §3.2, §3.4).
pub const L_CRED_ALPHA: &[u8] = b"cred-alpha";
/// Message label `cred-beta`: `cred.β` (as `cred-alpha`).
pub const L_CRED_BETA: &[u8] = b"cred-beta";
/// Message label `tbase-alpha`: `tbase.α` (as `cred-alpha`).
pub const L_TBASE_ALPHA: &[u8] = b"tbase-alpha";
/// Message label `tbase-beta`: `tbase.β` (as `cred-alpha`).
pub const L_TBASE_BETA: &[u8] = b"tbase-beta";
/// Message label `x-reg`: the registered credential in the cast opening.
pub const L_X_REG: &[u8] = b"x-reg";
/// Message label `y-s`: the server's designated-verifier key in the cast opening.
pub const L_Y_S: &[u8] = b"y-s";
/// Message label `A4`.
pub const L_CAP_A4: &[u8] = b"A4";
/// Message label `A5`.
pub const L_CAP_A5: &[u8] = b"A5";
/// Witness label `x`: the credential's secret in the credential proof's nonce derivation.
pub const W_X: &[u8] = b"x";
/// Witness label `r-x`: the nonce of `cred`.
pub const W_R_X: &[u8] = b"r-x";
/// Witness label `r-v`: the nonce of `tbase`.
pub const W_R_V: &[u8] = b"r-v";
/// Witness label `r`: an entry's nonce (13-revoting.md §4.2).
pub const W_R: &[u8] = b"r";
/// Witness label `y`: the designated-verifier secret, in the server's simulated opening.
pub const W_Y: &[u8] = b"y";
