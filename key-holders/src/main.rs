//! `dobush-key-holders`: the key-holders' command-line tool. See `key-holders/README.md`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dobush_key_holders::ceremony::Session;
use dobush_key_holders::keystore::{Keystore, read_passphrase};
use dobush_key_holders::transport::{Api, CeremonyDir, Relay, ServerRelay};
use dobush_key_holders::{Refused, commission_check, final_head, ops, tally};

/// The key-holders' tool of Dobush. Runs on the key-holder's own computer; secrets stay in the
/// keystore, encrypted under the passphrase (from DOBUSH_PASSPHRASE, or prompted).
///
/// Exit codes: 0 success, 1 error, 2 usage, 3 refused (a check failed).
#[derive(Parser)]
#[command(name = "dobush-key-holders", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the keystore: ceremony signing and communication keys and the protocol-signing
    /// key, encrypted; prints the fingerprints for the in-person check; writes the public keys.
    Init {
        /// Keystore directory (created; must not hold a keystore yet).
        #[arg(long)]
        dir: PathBuf,
        /// This key-holder's index (1..=n), as assigned by the commission.
        #[arg(long)]
        index: u32,
        /// Also register the public keys in this ceremony directory.
        #[arg(long, conflicts_with = "server")]
        ceremony: Option<PathBuf>,
        /// Or register them with the server at this URL (bearer token from DOBUSH_TOKEN).
        #[arg(long, requires = "campaign")]
        server: Option<String>,
        /// Campaign id (with --server).
        #[arg(long)]
        campaign: Option<String>,
    },
    /// The key ceremony, one round at a time: commit → reveal (with shares) → check → finish,
    /// over a shared ceremony directory (--ceremony) or the server (--server).
    Ceremony {
        #[command(subcommand)]
        round: Round,
    },
    /// Test decryption before voting opens: encrypts a random value to the joint key itself,
    /// partially decrypts it with the stored share and checks the proof. Finds a lost or
    /// corrupted share in time. Decrypts nothing it did not encrypt.
    Rehearse {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// Campaign id.
        #[arg(long)]
        campaign: String,
    },
    /// Checks a closed election record (final signed tree head, every ballot's proofs and
    /// credential, the re-vote rule), recomputes the encrypted totals, refuses if they differ
    /// from the published ones, and only then makes this key-holder's partial decryptions: written
    /// to a file (--record, --out), or, with --server, downloaded from and posted to the server.
    Tally {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// Directory with record.json and board.jsonl (docs/record-format.md).
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        record: Option<PathBuf>,
        /// Where to write the decryption shares (JSON array, one per total).
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        out: Option<PathBuf>,
        /// Or the server: downloads the record and the board, posts the shares (bearer token of
        /// the key-holder's session from DOBUSH_TOKEN).
        #[arg(long, requires = "campaign")]
        server: Option<String>,
        /// Campaign id (required with --server; else default: the record's, and if given, must be
        /// the record's).
        #[arg(long)]
        campaign: Option<String>,
    },
    /// Signs an electronic protocol with the member's Ed25519 key from the keystore: a body in a
    /// file (--protocol; prints the signature JSON), or, with --server, the protocol saved on the
    /// server (shows its lines, recomputes its digest, posts the signature). DEMO AND TESTS ONLY:
    /// in production the members sign with their qualified cloud e-signature through an
    /// adapter, not with this key.
    Sign {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// The protocol body (ProtocolBody JSON).
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        protocol: Option<PathBuf>,
        /// Or the server holding the saved protocol.
        #[arg(long, requires = "campaign")]
        server: Option<String>,
        /// Campaign id (with --server).
        #[arg(long)]
        campaign: Option<String>,
        /// With --server: the digest on the commission's printed copy; refused if the saved
        /// protocol's digest differs.
        #[arg(long, requires = "server")]
        digest: Option<String>,
        /// With --server: a tree head the member kept during voting (`dobush-verifier watch`'s
        /// state file, a receipt or a saved `…/board/head`). The protocol's final head must follow
        /// it on the board's signed chain and be consistent with it, or the tool refuses to sign.
        #[arg(long, requires = "server")]
        heads: Option<PathBuf>,
        /// The member's name and role as printed on the protocol.
        #[arg(long)]
        member: String,
    },
    /// A member checks their own line of the commission section (14-commission.md §Member
    /// fingerprints): prints every member with the fingerprint recomputed here, the quorum, the
    /// commission hash (and the election package's fingerprint once it is installed), and
    /// refuses unless this keystore's member key is in the section under the given name and role.
    /// Run it before the second administrator confirms the section, and again on the package.
    CheckCommission {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// An election package file (the section it pins).
        #[arg(long, required_unless_present = "server", conflicts_with = "server")]
        package: Option<PathBuf>,
        /// Or the server: the section it shows (proposed, confirmed or pinned) and its package.
        #[arg(long, requires = "campaign")]
        server: Option<String>,
        /// Campaign id (with --server).
        #[arg(long)]
        campaign: Option<String>,
        /// The member's name as on the commission's written decision.
        #[arg(long)]
        name: String,
        /// The member's role: chair, deputy_chair, secretary or member.
        #[arg(long)]
        role: String,
        /// The number of members on the commission's written decision.
        #[arg(long)]
        members: usize,
        /// The election package fingerprint the commission published (required once the package
        /// is installed): a package that differs is refused.
        #[arg(long)]
        package_fingerprint: Option<String>,
    },
    /// Signs the frozen e-voter credential list (the server's `credential-list` answer, saved to
    /// a file) after recomputing its digest; prints its size and the signature JSON. Same key
    /// and the same DEMO AND TESTS ONLY caveat as `sign`.
    SignList {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// The saved `GET /api/v1/campaigns/{id}/credential-list` answer.
        #[arg(long)]
        list: PathBuf,
        /// The member's name and role.
        #[arg(long)]
        member: String,
    },
    /// Signs a credential replacement decided while voting is open (the digest recomputed from
    /// the values below, as the commission's decision states them); prints the signature JSON,
    /// one item of the replacement request's `signatures`. Same key and caveat as `sign`.
    SignReplacement {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// Campaign id.
        #[arg(long)]
        campaign: String,
        /// The revoked credential (64 hex digits).
        #[arg(long)]
        old: String,
        /// The new credential (64 hex digits).
        #[arg(long)]
        new: String,
        /// The voter's ballot style.
        #[arg(long)]
        style: String,
        /// Reference of the commission's decision, exactly as it will be posted.
        #[arg(long)]
        decision: String,
        /// The digest the server named: refused unless equal to the recomputed one.
        #[arg(long)]
        digest: Option<String>,
        /// The member's name and role.
        #[arg(long)]
        member: String,
    },
    /// Signs a drafted v2 replacement (13-revoting.md §4.3: the server's `…/credentials/
    /// replacements/draft` answer saved to a file) after checking both registration bindings
    /// for the PIN of the person in front of the member, old_tbase against the old credential
    /// with the nonce, the nonce's proof and the digest; prints the signature JSON. Same key and
    /// caveat as `sign`.
    SignReplacementV2 {
        /// Keystore directory.
        #[arg(long)]
        dir: PathBuf,
        /// The saved draft answer.
        #[arg(long)]
        draft: PathBuf,
        /// The election package the member verified (its fingerprint compared in person).
        #[arg(long)]
        package: PathBuf,
        /// The voter's PIN, from the document of the person in front of the member.
        #[arg(long)]
        pin: String,
        /// The member's name and role.
        #[arg(long)]
        member: String,
    },
}

#[derive(Subcommand)]
enum Round {
    /// Round 1: draws the polynomial (stored encrypted), publishes the signed commitment hash.
    Commit(RoundArgs),
    /// Round 2: after all commitment hashes are in, publishes the signed commitments and the
    /// signed encrypted shares.
    Reveal(RoundArgs),
    /// Round 2, shares only: publishes any encrypted share not yet published.
    Shares(RoundArgs),
    /// Round 3: checks the shares addressed to this key-holder, publishes signed complaints
    /// against bad ones.
    Check(RoundArgs),
    /// Result: evaluates the transcript, stores this key-holder's key share encrypted, prints
    /// the joint key's fingerprint for the minutes.
    Finish(RoundArgs),
}

#[derive(clap::Args)]
struct RoundArgs {
    /// Keystore directory.
    #[arg(long)]
    dir: PathBuf,
    /// Shared ceremony directory (key-holders/, round1/, round2/, round3/).
    #[arg(long, required_unless_present = "server", conflicts_with = "server")]
    ceremony: Option<PathBuf>,
    /// Or the server relaying the ceremony, e.g. https://dobush.example (bearer token of the
    /// key-holder's session from DOBUSH_TOKEN).
    #[arg(long)]
    server: Option<String>,
    /// Campaign id.
    #[arg(long)]
    campaign: String,
    /// Threshold t (shares needed to decrypt); n is the number of registered key-holders.
    #[arg(long)]
    threshold: u32,
}

/// The relay named on the command line: a ceremony directory or the server.
fn relay(ceremony: Option<PathBuf>, server: Option<String>, campaign: &str) -> Result<Relay> {
    match (ceremony, server) {
        (Some(dir), None) => Ok(Relay::Dir(CeremonyDir::new(&dir))),
        (None, Some(url)) => {
            let token = std::env::var("DOBUSH_TOKEN").unwrap_or_default();
            Ok(Relay::Server(Box::new(ServerRelay::new(&url, campaign, &token)?)))
        }
        _ => anyhow::bail!("give either --ceremony DIR or --server URL"),
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { dir, index, ceremony, server, campaign } => {
            let relay = match (&ceremony, &server) {
                (None, None) => None,
                _ => Some(relay(ceremony, server, campaign.as_deref().unwrap_or(""))?),
            };
            let pass = read_passphrase(true)?;
            ops::init(&dir, index, &pass, relay.as_ref())
        }
        Command::Ceremony { round } => {
            let (args, step) = match round {
                Round::Commit(a) => (a, 1),
                Round::Reveal(a) => (a, 2),
                Round::Shares(a) => (a, 3),
                Round::Check(a) => (a, 4),
                Round::Finish(a) => (a, 5),
            };
            let pass = read_passphrase(false)?;
            let relay = relay(args.ceremony, args.server, &args.campaign)?;
            let s = Session::open(&args.dir, &pass, relay, &args.campaign, args.threshold)?;
            match step {
                1 => s.commit(),
                2 => s.reveal(true),
                3 => s.reveal(false),
                4 => s.check(),
                _ => s.finish(),
            }
        }
        Command::Rehearse { dir, campaign } => {
            let pass = read_passphrase(false)?;
            let (store, secrets) = Keystore::open(&dir, &pass)?;
            let value = ops::rehearse(&store, &secrets, &campaign)?;
            println!(
                "rehearsal passed: key-holder {}'s share partially decrypted a value it encrypted ({value}), signed, with a valid proof",
                store.index()
            );
            Ok(())
        }
        Command::Tally { dir, record, out, server, campaign } => {
            let pass = read_passphrase(false)?;
            let (store, secrets) = Keystore::open(&dir, &pass)?;
            let print_checked = |s: &tally::Summary| {
                println!(
                    "board: {} entries under the final signed tree head; {} ballots verified, {} counted, {} superseded",
                    s.entries, s.ballots, s.counted, s.superseded
                );
                println!("encrypted totals recomputed and equal to the published ones");
                println!(
                    "re-vote rule (the election package's, bound by its hash): {}; compare it with the commission's decision",
                    s.re_vote_policy
                );
            };
            match (server, record, out) {
                (Some(url), _, _) => {
                    let campaign = campaign.unwrap_or_default();
                    let api = Api::from_env(&url)?;
                    let (s, answer) = tally::run_server(&store, &secrets, &api, &campaign)?;
                    print_checked(&s);
                    println!("posted {} decryption share(s) of key-holder {}", s.shares, store.index());
                    println!("{}", tally::describe_answer(&answer));
                }
                (None, Some(record), Some(out)) => {
                    let s = tally::run(&store, &secrets, campaign.as_deref(), &record, &out)?;
                    print_checked(&s);
                    println!(
                        "wrote {} decryption share(s) of key-holder {} to {}",
                        s.shares,
                        store.index(),
                        out.display()
                    );
                }
                _ => anyhow::bail!("give either --record DIR --out FILE or --server URL"),
            }
            Ok(())
        }
        Command::Sign { dir, protocol, server, campaign, digest, heads, member } => {
            let pass = read_passphrase(false)?;
            match (server, protocol) {
                (Some(url), _) => {
                    let api = Api::from_env(&url)?;
                    let campaign = campaign.unwrap_or_default();
                    let saved = ops::fetch_protocol(&api, &campaign, digest.as_deref())?;
                    print!("{}", ops::protocol_lines(&saved.body));
                    match heads {
                        Some(file) => {
                            let text = std::fs::read_to_string(&file)
                                .with_context(|| format!("cannot read {}", file.display()))?;
                            let kept = final_head::read_kept(&text)?;
                            let last = final_head::check(&api, &saved.package, &kept, &saved.body.final_head)?;
                            println!(
                                "final head: {} entries, root {}; it follows the head you kept ({} entries)",
                                last.head.size,
                                hex::encode(last.head.root),
                                kept.head.size
                            );
                        }
                        None => println!(
                            "the final head was not compared with a head you kept (give --heads FILE to check it)"
                        ),
                    }
                    println!("protocol digest: {}", hex::encode(saved.digest));
                    println!("{}", saved.shares_line());
                    let (sig, signed) = ops::post_signature(&dir, &pass, &api, &saved, &member)?;
                    println!("signature of {} posted (key {})", sig.member, hex::encode(sig.public_key));
                    println!("protocol signed by the quorum: {}", if signed { "yes" } else { "not yet" });
                }
                (None, Some(protocol)) => {
                    let sig = ops::sign(&dir, &pass, &protocol, &member)?;
                    println!("{}", serde_json::to_string_pretty(&sig)?);
                }
                _ => anyhow::bail!("give either --protocol FILE or --server URL"),
            }
            Ok(())
        }
        Command::CheckCommission { dir, package, server, campaign, name, role, members, package_fingerprint } => {
            let pass = read_passphrase(false)?;
            let (_, secrets) = Keystore::open(&dir, &pass)?;
            let section = match (server, package) {
                (Some(url), _) => commission_check::from_server(&Api::from_env(&url)?, &campaign.unwrap_or_default())?,
                (None, Some(file)) => commission_check::from_package_text(
                    &std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?,
                )?,
                _ => anyhow::bail!("give either --package FILE or --server URL"),
            };
            let claim = commission_check::Claim {
                member_key: secrets.member.verifying_key().to_bytes(),
                name: &name,
                role: &role,
                members,
                package_fingerprint: package_fingerprint.as_deref(),
            };
            for line in commission_check::check(&section, &claim)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::SignList { dir, list, member } => {
            let pass = read_passphrase(false)?;
            let (sig, count) = ops::sign_list(&dir, &pass, &list, &member)?;
            eprintln!("credential list of {count} e-voters signed");
            println!("{}", serde_json::to_string_pretty(&sig)?);
            Ok(())
        }
        Command::SignReplacement { dir, campaign, old, new, style, decision, digest, member } => {
            let pass = read_passphrase(false)?;
            let r = ops::ReplacementToSign {
                campaign: &campaign,
                old: &old,
                new: &new,
                style: &style,
                decision: &decision,
            };
            let (sig, digest) = ops::sign_replacement(&dir, &pass, &r, digest.as_deref(), &member)?;
            eprintln!("replacement signed: digest {}", hex::encode(digest));
            println!("{}", serde_json::to_string_pretty(&sig)?);
            Ok(())
        }
        Command::SignReplacementV2 { dir, draft, package, pin, member } => {
            let pass = read_passphrase(false)?;
            let (sig, digest) = ops::sign_replacement_v2(&dir, &pass, (&draft, &package), &pin, &member)?;
            eprintln!("v2 replacement signed: digest {}", hex::encode(digest));
            println!("{}", serde_json::to_string_pretty(&sig)?);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<Refused>().is_some() { ExitCode::from(3) } else { ExitCode::FAILURE }
        }
    }
}
