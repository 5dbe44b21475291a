//! `tokenize` and [`detokenize`]: deterministic, reversible, authenticated tokens.
//!
//! A token is `tok_<keyid>_<data>` where `<keyid>` is the 8-hex-character id of the key that
//! made it and `<data>` is the unpadded base64url encoding of AES-256-SIV (RFC 5297, a
//! deterministic misuse-resistant AEAD) of the value's UTF-8 bytes, with the token sub-key and
//! the associated data `"pol token v1"` and the key id. SIV is deterministic: the same value gives
//! the same token under the same key — in every column and source, so tokenized columns join
//! (like a tokenization vault). Tokens are 16 bytes (the SIV) plus the value's length, before
//! base64. A tampered token or one made under another key fails to decrypt (authenticated).

use aes_siv::siv::Aes256Siv;
use aes_siv::KeyInit;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::{invalid, TechniqueError};
use crate::keys::{KeyRing, MaskingKey};

const PREFIX: &str = "tok_";
const ASSOCIATED_DATA: &[u8] = b"pol token v1";
const KEY_ID_LEN: usize = 8;

fn cipher(key: &MaskingKey) -> Result<Aes256Siv, TechniqueError> {
    Aes256Siv::new_from_slice(key.token_key()).map_err(|_| invalid("tokenize", "bad key length"))
}

/// The token of `plaintext` under `key`.
pub(crate) fn tokenize(key: &MaskingKey, plaintext: &str) -> Result<String, TechniqueError> {
    let ciphertext = cipher(key)?
        .encrypt([ASSOCIATED_DATA, key.id().as_bytes()], plaintext.as_bytes())
        .map_err(|_| invalid("tokenize", "encryption failed"))?;
    Ok(format!(
        "{PREFIX}{}_{}",
        key.id(),
        URL_SAFE_NO_PAD.encode(ciphertext)
    ))
}

/// Returns the original of a token made by `tokenize`, with the key of the ring whose id the
/// token names (active or retired).
///
/// Errors: [`TechniqueError::MalformedToken`] if the text is not a token,
/// [`TechniqueError::UnknownKey`] if the ring lacks the key, [`TechniqueError::DecryptionFailed`]
/// if the token was altered or does not decrypt to UTF-8.
pub fn detokenize(token: &str, keys: &KeyRing) -> Result<String, TechniqueError> {
    let rest = token
        .strip_prefix(PREFIX)
        .ok_or(TechniqueError::MalformedToken)?;
    let id = rest
        .get(..KEY_ID_LEN)
        .ok_or(TechniqueError::MalformedToken)?;
    let data = rest
        .get(KEY_ID_LEN..)
        .and_then(|r| r.strip_prefix('_'))
        .ok_or(TechniqueError::MalformedToken)?;
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TechniqueError::MalformedToken);
    }
    let key = keys
        .get(id)
        .ok_or_else(|| TechniqueError::UnknownKey(id.to_owned()))?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(data)
        .map_err(|_| TechniqueError::MalformedToken)?;
    let plaintext = cipher(key)?
        .decrypt([ASSOCIATED_DATA, key.id().as_bytes()], &ciphertext)
        .map_err(|_| TechniqueError::DecryptionFailed)?;
    String::from_utf8(plaintext).map_err(|_| TechniqueError::DecryptionFailed)
}
