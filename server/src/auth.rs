//! Who is asking. The subject is never taken from a request body:
//!
//! - **JWT bearer tokens** ([`Authenticator::Jwt`]): `Authorization: Bearer …`, verified against
//!   the configured keys (a key is tried only for the algorithms of its kind, so an HMAC token
//!   is never checked with a public key), `exp` required, `exp`/`nbf` enforced (30 s leeway),
//!   `iss`/`aud` when configured. The verified claims become the subject ([`claims_subject`]).
//! - **Sidecar** ([`Authenticator::Header`]): the subject JSON of the `X-Pol-Subject` header,
//!   allowed only on a local socket (checked when the options are resolved).
//!
//! Every failure is the same [`AuthError`] to the caller (a 401 that says nothing of the cause);
//! the cause is logged at debug level.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value as Json};

use crate::options::ClaimNames;

/// The header holding the subject JSON in sidecar mode.
pub const SUBJECT_HEADER: &str = "x-pol-subject";

/// Claims that describe the token rather than the subject: never copied into the subject.
const REGISTERED: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// The subject's built-in fields.
const BUILT_IN: [&str; 5] = ["login", "roles", "groups", "attributes", "purposes"];

/// Why a request is not authenticated (logged, never answered).
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials.
    Missing,
    /// Credentials that do not verify (the cause, for the log).
    Invalid(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str("no credentials"),
            AuthError::Invalid(m) => write!(f, "invalid credentials: {m}"),
        }
    }
}

/// Why a verification key cannot be loaded (the server does not start).
#[derive(Debug)]
pub struct KeyFileError {
    /// The key file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the JWT key {}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for KeyFileError {}

/// One verification key and the algorithms it verifies.
struct VerificationKey {
    key: DecodingKey,
    algorithms: &'static [Algorithm],
}

/// Verifies bearer tokens and maps their claims to subjects.
pub struct JwtVerifier {
    keys: Vec<VerificationKey>,
    verified: Box<VerifiedTokens>,
    issuer: Option<String>,
    audience: Option<String>,
    claims: ClaimNames,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("keys", &self.keys.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// The shortest HMAC secret accepted (256 bits, as HS256 needs).
pub const MIN_SECRET_BYTES: usize = 32;

/// The leeway of `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;

/// How many verified tokens are remembered (beyond it, the cache starts again empty).
const VERIFIED_TOKENS: usize = 4096;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Tokens verified already, by their exact text: a client that sends the same token with
/// every request is verified once (signature, claims and the claims → subject mapping), not
/// once per request. An entry holds until the token's `exp` plus the leeway; a token that
/// differs by one byte is another key, verified in full. The keys never change while the
/// server runs, so a verification stays true until expiry.
#[derive(Debug, Default)]
struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, (Json, u64)>>,
}

impl VerifiedTokens {
    /// The subject of `token` if it was verified: `Ok(None)` if not, an error once it expired.
    fn get(&self, token: &str, now: u64) -> Result<Option<Json>, AuthError> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(token) {
            None => Ok(None),
            Some((_, until)) if now >= *until => {
                Err(AuthError::Invalid("the token has expired".into()))
            }
            Some((subject, _)) => Ok(Some(subject.clone())),
        }
    }

    fn insert(&self, token: &str, subject: Json, until: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= VERIFIED_TOKENS {
            entries.clear();
        }
        entries.insert(token.into(), (subject, until));
    }
}

fn load_key(path: &Path) -> Result<VerificationKey, KeyFileError> {
    let fail = |message: String| KeyFileError {
        path: path.to_owned(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    if bytes.starts_with(b"-----BEGIN") {
        if let Ok(key) = DecodingKey::from_rsa_pem(&bytes) {
            return Ok(VerificationKey {
                key,
                algorithms: &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
            });
        }
        if let Ok(key) = DecodingKey::from_ec_pem(&bytes) {
            return Ok(VerificationKey {
                key,
                algorithms: &[Algorithm::ES256, Algorithm::ES384],
            });
        }
        return Err(fail(
            "a PEM file that is neither an RSA nor an EC public key".into(),
        ));
    }
    let secret = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    if secret.len() < MIN_SECRET_BYTES {
        return Err(fail(format!(
            "an HMAC secret must have at least {MIN_SECRET_BYTES} bytes, this one has {}",
            secret.len()
        )));
    }
    Ok(VerificationKey {
        key: DecodingKey::from_secret(secret),
        algorithms: &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
    })
}

impl JwtVerifier {
    /// Loads the keys.
    pub fn new(
        paths: &[PathBuf],
        issuer: Option<String>,
        audience: Option<String>,
        claims: ClaimNames,
    ) -> Result<Self, KeyFileError> {
        let keys = paths
            .iter()
            .map(|p| load_key(p))
            .collect::<Result<_, _>>()?;
        Ok(JwtVerifier {
            keys,
            verified: Box::default(),
            issuer,
            audience,
            claims,
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = LEEWAY_SECS;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp"]);
        match &self.audience {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        if let Some(i) = &self.issuer {
            v.set_issuer(&[i]);
        }
        v
    }

    /// The verified claims of a token.
    pub fn verify(&self, token: &str) -> Result<Map<String, Json>, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let mut last = AuthError::Invalid(format!("no key verifies {:?}", header.alg));
        for k in self
            .keys
            .iter()
            .filter(|k| k.algorithms.contains(&header.alg))
        {
            match jsonwebtoken::decode::<Map<String, Json>>(
                token,
                &k.key,
                &self.validation(header.alg),
            ) {
                Ok(data) => return Ok(data.claims),
                Err(e) => last = AuthError::Invalid(e.to_string()),
            }
        }
        Err(last)
    }

    /// The subject of a verified token.
    pub fn subject(&self, token: &str) -> Result<Json, AuthError> {
        self.subject_at(token, unix_now())
    }

    /// [`subject`](Self::subject) at `now` (Unix seconds): a token verified before is answered
    /// from the cache of verified tokens until its `exp` (plus the leeway) has passed, and then
    /// refused; any other token is verified (and, if valid, cached).
    pub fn subject_at(&self, token: &str, now: u64) -> Result<Json, AuthError> {
        if let Some(subject) = self.verified.get(token, now)? {
            return Ok(subject);
        }
        let claims = self.verify(token)?;
        let subject = claims_subject(&claims, &self.claims);
        if let Some(exp) = claims.get("exp").and_then(Json::as_u64) {
            self.verified
                .insert(token, subject.clone(), exp.saturating_add(LEEWAY_SECS));
        }
        Ok(subject)
    }
}

/// A claim by name, or by dotted path through nested objects (`realm_access.roles`).
fn claim<'a>(claims: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut v = claims.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}

/// The subject JSON (docs/language.md §8) of verified claims: `sub` is the login; roles,
/// groups, attributes and purposes come from their configured claims; every other claim that
/// is not a registered one (`iss`, `aud`, `exp`, …) is copied as a field of the same name, for
/// the policy's declared subject fields (e.g. `team`, `clearance`). A claim named like a
/// built-in field but not configured for it is ignored.
pub fn claims_subject(claims: &Map<String, Json>, names: &ClaimNames) -> Json {
    let mapped = [
        ("roles", names.roles.as_str()),
        ("groups", names.groups.as_str()),
        ("attributes", names.attributes.as_str()),
        ("purposes", names.purposes.as_str()),
    ];
    let mut subject = Map::new();
    for (k, v) in claims {
        let is_mapped = mapped.iter().any(|(_, c)| c == k);
        if !REGISTERED.contains(&k.as_str()) && !BUILT_IN.contains(&k.as_str()) && !is_mapped {
            subject.insert(k.clone(), v.clone());
        }
    }
    if let Some(sub) = claims.get("sub") {
        subject.insert("login".into(), sub.clone());
    }
    for (field, name) in mapped {
        if let Some(v) = claim(claims, name) {
            subject.insert(field.into(), v.clone());
        }
    }
    Json::Object(subject)
}

/// How the server learns who is asking.
#[derive(Debug)]
pub enum Authenticator {
    /// Verified bearer tokens.
    Jwt(JwtVerifier),
    /// The `X-Pol-Subject` header (sidecar on a local socket).
    Header,
}

impl Authenticator {
    /// The subject of a request, from its headers.
    pub fn subject(&self, headers: &axum::http::HeaderMap) -> Result<Json, AuthError> {
        match self {
            Authenticator::Jwt(v) => {
                let value = headers
                    .get(axum::http::header::AUTHORIZATION)
                    .ok_or(AuthError::Missing)?;
                let text = value
                    .to_str()
                    .map_err(|_| AuthError::Invalid("the header is not text".into()))?;
                let token = text
                    .strip_prefix("Bearer ")
                    .or_else(|| text.strip_prefix("bearer "))
                    .ok_or_else(|| AuthError::Invalid("not a bearer token".into()))?;
                v.subject(token.trim())
            }
            Authenticator::Header => {
                let value = headers.get(SUBJECT_HEADER).ok_or(AuthError::Missing)?;
                let json: Json = serde_json::from_slice(value.as_bytes())
                    .map_err(|_| AuthError::Invalid("the subject header is not JSON".into()))?;
                if !json.is_object() {
                    return Err(AuthError::Invalid(
                        "the subject header is not a JSON object".into(),
                    ));
                }
                Ok(json)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> ClaimNames {
        ClaimNames {
            roles: "realm_access.roles".into(),
            groups: "groups".into(),
            attributes: "attrs".into(),
            purposes: "purposes".into(),
        }
    }

    fn verifier() -> (JwtVerifier, Vec<u8>) {
        // One file per call: the tests of this module run in parallel in one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("pol-auth-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hs.secret");
        let secret = b"a test secret of at least 32 bytes, for HS256".to_vec();
        std::fs::write(&path, &secret).unwrap();
        let v = JwtVerifier::new(&[path], None, None, names()).unwrap();
        (v, secret)
    }

    fn token(secret: &[u8], claims: &Json) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let (v, secret) = verifier();
        let now = unix_now();
        let t = token(&secret, &json!({"sub": "amy", "exp": now + 60}));
        assert_eq!(v.subject_at(&t, now).unwrap()["login"], json!("amy"));
        assert_eq!(v.verified.entries.lock().unwrap().len(), 1);
        assert_eq!(v.subject_at(&t, now + 89).unwrap()["login"], json!("amy"));
        // exp + leeway has passed: refused, though the signature is still good.
        assert_eq!(
            v.subject_at(&t, now + 90),
            Err(AuthError::Invalid("the token has expired".into()))
        );
    }

    #[test]
    fn a_token_differing_from_a_verified_one_is_verified_in_full() {
        let (v, secret) = verifier();
        let now = unix_now();
        let t = token(&secret, &json!({"sub": "amy", "exp": now + 60}));
        assert!(v.subject_at(&t, now).is_ok());
        let mut tampered = t.clone();
        tampered.pop();
        tampered.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(
            v.subject_at(&tampered, now),
            Err(AuthError::Invalid(_))
        ));
        let other = token(
            b"another secret of at least 32 bytes, for HS256",
            &json!({"sub": "eve", "exp": now + 60}),
        );
        assert!(v.subject_at(&other, now).is_err());
        assert_eq!(v.verified.entries.lock().unwrap().len(), 1);
    }

    #[test]
    fn claims_map_to_the_subject() {
        let claims = json!({
            "sub": "amy", "exp": 1, "iss": "idp", "team": "billing",
            "realm_access": {"roles": ["agent"]}, "roles": ["supervisor"],
            "attrs": {"Office Location": ["VA"]}, "login": "mallory"
        });
        let s = claims_subject(claims.as_object().unwrap(), &names());
        assert_eq!(
            s,
            json!({
                "team": "billing", "realm_access": {"roles": ["agent"]},
                "login": "amy", "roles": ["agent"], "attributes": {"Office Location": ["VA"]}
            })
        );
    }
}
