//! `hash([scope: source | global])`: lowercase hex of HMAC-SHA256(hash sub-key, message), the
//! message being the source name, a zero byte and the value's canonical text — or the canonical
//! text alone with `scope: global`.

use super::keys::{hmac_sha256, Keys};

/// The pseudonym of `text` in `source`.
pub fn hash(keys: &Keys, source: &str, global: bool, text: &str) -> Option<String> {
    let digest = if global {
        hmac_sha256(&keys.hash, &[text.as_bytes()])?
    } else {
        hmac_sha256(&keys.hash, &[source.as_bytes(), b"\0", text.as_bytes()])?
    };
    Some(hex::encode(digest))
}
