//! `hash([scope: source | global])`: keyed pseudonyms.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{invalid, TechniqueError};
use crate::keys::MaskingKey;

/// Lowercase hex of HMAC-SHA256(hash sub-key, source + `"\0"` + text), or of HMAC-SHA256(hash
/// sub-key, text) when `global`.
pub(crate) fn hash(
    key: &MaskingKey,
    source: &str,
    global: bool,
    text: &str,
) -> Result<String, TechniqueError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.hash_key())
        .map_err(|_| invalid("hash", "bad key length"))?;
    if !global {
        mac.update(source.as_bytes());
        mac.update(b"\0");
    }
    mac.update(text.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}
