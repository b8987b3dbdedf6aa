//! Diesel table definitions, hand-kept in step with `migrations/{postgres,sqlite}`. Only types both
//! backends share are used (Text, BigInt, Integer, Bool).
#![allow(missing_docs)]

diesel::table! {
    write_lock (id) {
        id -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    session_revocations (jti) {
        jti -> Text,
        revoked_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        state -> Text,
        voting_day -> Text,
        window_start -> Text,
        window_end -> Text,
        opens_at -> BigInt,
        closes_at -> BigInt,
        last_application_day -> Text,
        demo_mode -> Bool,
        revote_policy -> Text,
        manifest -> Text,
        manifest_hash -> Nullable<Text>,
        election_public_key -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        created_by -> Text,
    }
}

diesel::table! {
    ballot_styles (campaign_id, code) {
        campaign_id -> Text,
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    precincts (campaign_id, code) {
        campaign_id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        ballot_style -> Text,
        territory -> Text,
    }
}

diesel::table! {
    voters (campaign_id, pin) {
        campaign_id -> Text,
        pin -> Text,
        full_name -> Text,
        birth_date -> Text,
        precinct_code -> Text,
        imported_at -> BigInt,
    }
}

diesel::table! {
    evoter_credentials (id) {
        id -> BigInt,
        campaign_id -> Text,
        pin -> Text,
        ballot_style -> Text,
        public_key -> Text,
        status -> Text,
        registered_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        pin_commitment -> Nullable<Text>,
        pin_salt -> Nullable<Text>,
        registration_binding -> Nullable<Text>,
        binding_base_hash -> Nullable<Text>,
        binding_decision -> Nullable<Text>,
    }
}

diesel::table! {
    key_shares (campaign_id, trustee_index) {
        campaign_id -> Text,
        trustee_index -> Integer,
        holder_pin -> Text,
        public_data -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    ballots (id) {
        id -> BigInt,
        campaign_id -> Text,
        pin -> Text,
        credential_id -> BigInt,
        ballot_style -> Text,
        tracking_code -> Text,
        status -> Text,
        board_index -> Nullable<BigInt>,
        superseded_by -> Nullable<BigInt>,
        received_at -> BigInt,
        ballot_uid -> Nullable<Text>,
    }
}

diesel::table! {
    ballot_ciphertexts (campaign_id, ciphertext_hash) {
        campaign_id -> Text,
        ciphertext_hash -> Text,
        ballot_id -> BigInt,
    }
}

diesel::table! {
    encrypted_totals (campaign_id, ballot_style, shard) {
        campaign_id -> Text,
        ballot_style -> Text,
        shard -> Integer,
        totals -> Text,
        ballot_count -> BigInt,
    }
}

diesel::table! {
    board_entries (campaign_id, idx) {
        campaign_id -> Text,
        idx -> BigInt,
        kind -> Text,
        ballot_id -> Nullable<BigInt>,
        payload -> Text,
        leaf_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    tree_heads (campaign_id, tree_size) {
        campaign_id -> Text,
        tree_size -> BigInt,
        root_hash -> Text,
        signature -> Text,
        issued_at -> BigInt,
        previous_hash -> Text,
    }
}

diesel::table! {
    staff (pin, role) {
        pin -> Text,
        role -> Text,
        territory -> Nullable<Text>,
        granted_at -> BigInt,
        granted_by -> Text,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        campaign_id -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        at -> BigInt,
        kind -> Text,
        actor -> Text,
        ip -> Nullable<Text>,
        path -> Text,
        reason -> Text,
        audit_seq -> BigInt,
        acknowledged_at -> Nullable<BigInt>,
        acknowledged_by -> Nullable<Text>,
        pushed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Unauthenticated refusals counted per kind and window (migration
    /// `2026-12-06-000011_refusal_counts`, `audit::record_anonymous_refusal`).
    refusal_counts (kind, window_start) {
        kind -> Text,
        window_start -> BigInt,
        count -> BigInt,
        first_at -> BigInt,
        last_at -> BigInt,
        alert_id -> BigInt,
    }
}

diesel::table! {
    oidc_logins (state) {
        state -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        browser_hash -> Text,
        client -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    ballots_issued (campaign_id, pin) {
        campaign_id -> Text,
        pin -> Text,
        issued_at -> BigInt,
    }
}

diesel::table! {
    tallies (campaign_id) {
        campaign_id -> Text,
        status -> Text,
        board_totals -> Text,
        shard_totals -> Text,
        closed_at -> BigInt,
        results -> Nullable<Text>,
        tallied_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    decryption_shares (campaign_id, seq) {
        campaign_id -> Text,
        seq -> BigInt,
        key_holder -> BigInt,
        payload -> Text,
        valid -> Bool,
        reason -> Nullable<Text>,
        submitted_by -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    commission_members (campaign_id, public_key) {
        campaign_id -> Text,
        public_key -> Text,
        name -> Text,
        role -> Text,
        precinct -> Text,
        registered_at -> BigInt,
        registered_by -> Text,
    }
}

diesel::table! {
    /// The second administrator's confirmation of the commission section (docs/protocol/14-commission.md).
    commission_confirmations (campaign_id) {
        campaign_id -> Text,
        commission_hash -> Text,
        confirmed_by -> Text,
        confirmed_at -> BigInt,
        re_vote_policy -> Text,
    }
}

diesel::table! {
    protocols (campaign_id) {
        campaign_id -> Text,
        body -> Text,
        digest -> Text,
        revision -> BigInt,
        decision -> Nullable<Text>,
        saved_at -> BigInt,
        saved_by -> Text,
    }
}

diesel::table! {
    protocol_signatures (campaign_id, digest, public_key) {
        campaign_id -> Text,
        digest -> Text,
        public_key -> Text,
        member -> Text,
        signature -> Text,
        signed_at -> BigInt,
    }
}

diesel::table! {
    /// The election package of a campaign (migration `2026-11-21-000002_election_packages`).
    election_packages (campaign_id) {
        campaign_id -> Text,
        package -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// The designated-verifier secret y of a v2 campaign (migration
    /// `2026-12-07-000015_cast_verifier_secrets`; 13-revoting.md §3.4).
    cast_verifier_secrets (campaign_id) {
        campaign_id -> Text,
        secret -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// The accepted filter transcripts of a v2 campaign, one per `filtered` board entry
    /// (migration `2026-12-07-000017_filter_transcripts`; 13-revoting.md §6.8).
    filter_transcripts (campaign_id, board_idx) {
        campaign_id -> Text,
        board_idx -> BigInt,
        style -> Text,
        style_index -> BigInt,
        run -> BigInt,
        sha256 -> Text,
        body -> Text,
        output -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// The ceremony of a campaign (migration `2026-11-22-000003_key_ceremony`).
    key_ceremonies (campaign_id) {
        campaign_id -> Text,
        attempt -> Integer,
        n -> Integer,
        t -> Integer,
        base_hash -> Nullable<Text>,
        outcome -> Nullable<Text>,
        failure -> Nullable<Text>,
        configured_at -> BigInt,
        completed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Key-holder `idx` of an attempt: the staff member bound to it and its registered keys.
    ceremony_key_holders (campaign_id, attempt, idx) {
        campaign_id -> Text,
        attempt -> Integer,
        idx -> Integer,
        pin -> Text,
        public_keys -> Nullable<Text>,
        registered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Every relayed message, write-once (canonical JSON).
    ceremony_messages (campaign_id, attempt, kind, sender, recipient) {
        campaign_id -> Text,
        attempt -> Integer,
        kind -> Text,
        sender -> Integer,
        recipient -> Integer,
        payload -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    /// The demo commission members' signing keys (migration `2026-12-06-100010_commission_confirmation`;
    /// demo-mode campaigns only).
    demo_members (campaign_id, idx) {
        campaign_id -> Text,
        idx -> Integer,
        signing_key -> Text,
    }
}

diesel::table! {
    /// The demo key-holders' secrets (migration `2026-11-22-000005_demo`; demo-mode campaigns only).
    demo_key_holders (campaign_id, idx) {
        campaign_id -> Text,
        idx -> Integer,
        secret_keys -> Text,
        key_share -> Text,
    }
}

diesel::table! {
    /// Commission members' signatures over the credential list (migration
    /// `2026-11-22-000006_credential_list_signatures`).
    credential_list_signatures (campaign_id, public_key) {
        campaign_id -> Text,
        public_key -> Text,
        member -> Text,
        signature -> Text,
        list_digest -> Text,
        uploaded_by -> Text,
        created_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    campaigns,
    ballot_styles,
    precincts,
    voters,
    evoter_credentials,
    ballots,
    board_entries,
);

diesel::allow_tables_to_appear_in_same_query!(alerts, refusal_counts);
