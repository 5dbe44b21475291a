//! The masking key as the reference derives it (docs/language.md, "Keys and sub-keys"): one
//! HKDF-SHA256 expansion per purpose, and the key id. Written from the language reference, not
//! taken from the runtime's key ring.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The fewest bytes a masking key may have.
pub const MIN_KEY_LEN: usize = 16;

/// The sub-keys of one masking key, and its id.
#[derive(Clone)]
pub struct Keys {
    /// 8 lowercase hex characters: the first 4 bytes of HMAC-SHA256(raw key, `pol key id`).
    pub id: String,
    /// `hash`: HKDF info `pol hash v1`, 32 bytes.
    pub hash: [u8; 32],
    /// `tokenize`: HKDF info `pol token v1`, 64 bytes (AES-256-SIV).
    pub token: [u8; 64],
    /// `format_preserving`: HKDF info `pol fpe v1`, 32 bytes (AES-256).
    pub fpe: [u8; 32],
    /// `noise` and `randomize` seeds: HKDF info `pol noise v1`, 32 bytes.
    pub noise: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.id)
    }
}

impl Keys {
    /// Derives the sub-keys of a raw masking key; `None` for a key shorter than 16 bytes.
    pub fn derive(raw: &[u8]) -> Option<Keys> {
        if raw.len() < MIN_KEY_LEN {
            return None;
        }
        let id_digest = hmac_sha256(raw, &[b"pol key id"])?;
        let hkdf = Hkdf::<Sha256>::new(Some(b"pol masking key v1"), raw);
        let mut keys = Keys {
            id: hex::encode(id_digest.get(..4)?),
            hash: [0; 32],
            token: [0; 64],
            fpe: [0; 32],
            noise: [0; 32],
        };
        hkdf.expand(b"pol hash v1", &mut keys.hash).ok()?;
        hkdf.expand(b"pol token v1", &mut keys.token).ok()?;
        hkdf.expand(b"pol fpe v1", &mut keys.fpe).ok()?;
        hkdf.expand(b"pol noise v1", &mut keys.noise).ok()?;
        Some(keys)
    }
}

/// HMAC-SHA256 under `key` of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Option<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().into())
}
