//! The Tunduk adapter: OpenID Connect authorization code flow with PKCE S256, state and nonce,
//! `response_mode=form_post`, ID-token validation, a required `acr`, and the PIN from a configurable
//! claim. Discovery runs on first use and is cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::configuration::OidcSettings;
use crate::error::ApiError;

/// Claims beyond the standard ones (the PIN claim's name is configurable).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraClaims {
    /// Every non-standard claim.
    #[serde(flatten)]
    pub other: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long discovered metadata (endpoints and signing keys) is reused before discovery runs
/// again, so that a rotation of the provider's keys is picked up without a restart.
const METADATA_TTL: Duration = Duration::from_secs(600);

/// A login that was started: where to send the browser, and what to keep server-side.
#[derive(Debug)]
pub struct LoginStart {
    /// The provider's authorization URL.
    pub url: String,
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// PKCE verifier.
    pub pkce_verifier: String,
}

/// What a verified ID token says.
#[derive(Debug)]
pub struct VerifiedIdentity {
    /// `sub`.
    pub subject: String,
    /// `acr`, if present.
    pub acr: Option<String>,
    /// The PIN claim, if present and a string.
    pub pin: Option<String>,
}

/// Why a login could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The provider refused the code (expired, reused, wrong verifier…).
    #[error("the identity provider refused the authorization code")]
    CodeRefused,
    /// The ID token failed validation (signature, issuer, audience, nonce, expiry).
    #[error("the ID token is not valid: {0}")]
    BadIdToken(String),
    /// Provider unreachable or misconfigured.
    #[error("{0}")]
    Unavailable(String),
}

/// The OIDC relying party.
pub struct Oidc {
    settings: OidcSettings,
    redirect_url: String,
    http: openidconnect::reqwest::Client,
    metadata: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("issuer", &self.settings.issuer_url).finish_non_exhaustive()
    }
}

impl Oidc {
    /// A relying party whose callback is `redirect_url`.
    pub fn new(settings: &OidcSettings, redirect_url: String) -> anyhow::Result<Self> {
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self { settings: settings.clone(), redirect_url, http, metadata: Mutex::new(None) })
    }

    /// Whether login is configured.
    pub fn enabled(&self) -> bool {
        !self.settings.issuer_url.is_empty()
    }

    /// The issuer URL as configured.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer_url
    }

    /// The configured settings.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    async fn client(&self) -> Result<OidcClient, ApiError> {
        if !self.enabled() {
            return Err(ApiError::Unavailable("login is not configured (oidc.issuer_url is empty)".into()));
        }
        let cached = self.metadata.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let metadata = match cached {
            Some((at, m)) if at.elapsed() < METADATA_TTL => m,
            _ => {
                let issuer = IssuerUrl::new(self.settings.issuer_url.clone())
                    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("oidc.issuer_url: {e}")))?;
                let m = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
                    tracing::error!(error = %e, "OIDC discovery failed");
                    ApiError::Unavailable("the identity provider is unavailable; try again".into())
                })?;
                *self.metadata.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), m.clone()));
                m
            }
        };
        let redirect = RedirectUrl::new(self.redirect_url.clone())
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("redirect URL: {e}")))?;
        Ok(OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            // no secret rather than an empty one: an empty HMAC key must never exist
            (!self.settings.client_secret.is_empty()).then(|| ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a login: PKCE S256, fresh state and nonce, form_post, and the required `acr`.
    pub async fn start(&self) -> Result<LoginStart, ApiError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .add_extra_param("response_mode", "form_post");
        for s in &self.settings.scopes {
            req = req.add_scope(Scope::new(s.clone()));
        }
        if !self.settings.required_acr.is_empty() {
            req = req.add_auth_context_value(AuthenticationContextClass::new(self.settings.required_acr.clone()));
        }
        let (url, state, nonce) = req.url();
        Ok(LoginStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code and validates the ID token (signature, issuer, audience, expiry, nonce).
    pub async fn finish(&self, code: &str, nonce: &str, pkce_verifier: &str) -> Result<VerifiedIdentity, LoginError> {
        let client = self.client().await.map_err(|e| LoginError::Unavailable(e.to_string()))?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| LoginError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "OIDC code exchange failed");
                LoginError::CodeRefused
            })?;
        let id_token = token
            .extra_fields()
            .id_token()
            .ok_or_else(|| LoginError::BadIdToken("the token response has no ID token".into()))?;
        // pinned by the configuration (checked against configuration::ID_TOKEN_ALGS), or else
        // every asymmetric algorithm of that list: never what the provider's discovery document
        // advertises, which could name HS256 (keyed by the client secret) or none (review
        // 18-hardening L5)
        let names: Vec<&str> = if self.settings.id_token_algs.is_empty() {
            crate::configuration::ID_TOKEN_ALGS.to_vec()
        } else {
            self.settings.id_token_algs.iter().map(String::as_str).collect()
        };
        let allowed: Vec<CoreJwsSigningAlgorithm> = names
            .into_iter()
            .filter_map(|a| serde_json::from_value(serde_json::Value::String(a.to_string())).ok())
            .collect();
        let verifier = client.id_token_verifier().set_allowed_algs(allowed);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| LoginError::BadIdToken(e.to_string()))?;
        Ok(VerifiedIdentity {
            subject: claims.subject().as_str().to_string(),
            acr: claims.auth_context_ref().map(|a| a.as_str().to_string()),
            pin: claims
                .additional_claims()
                .other
                .get(&self.settings.pin_claim)
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
    }
}
