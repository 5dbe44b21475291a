//! Masking keys, key ids, per-purpose sub-keys and key rotation.
//!
//! A [`MaskingKey`] is built from raw bytes (a key file's bytes *are* the key, at least
//! [`MaskingKey::MIN_LEN`] bytes, nothing trimmed). The raw bytes are never kept: at construction
//! they are expanded with HKDF-SHA256 (salt `"pol masking key v1"`) into one independent sub-key
//! per purpose, so that no two techniques ever use the same key material:
//!
//! | purpose | HKDF info | length | used by |
//! | --- | --- | --- | --- |
//! | hash | `pol hash v1` | 32 bytes | `hash` (HMAC-SHA256) |
//! | token | `pol token v1` | 64 bytes | `tokenize` (AES-256-SIV) |
//! | fpe | `pol fpe v1` | 32 bytes | `format_preserving` (FF1 over AES-256) |
//! | noise | `pol noise v1` | 32 bytes | `noise`, `randomize` (HMAC-SHA256 seeds) |
//!
//! The **key id** is the first 8 lowercase hex characters of HMAC-SHA256(raw key,
//! `"pol key id"`): short, stable, and revealing nothing useful about the key.
//!
//! # Rotation
//!
//! An engine holds a [`KeyRing`]: one *active* key, used for everything that writes (hashing,
//! tokenizing, encrypting, noise seeds), and any number of *retired* keys kept for reading only.
//!
//! - Every token carries the id of the key that made it (`tok_<keyid>_…`), so
//!   [`detokenize`](crate::techniques::detokenize) picks the right key from the ring; tokens made
//!   under a retired key stay reversible for as long as that key is in the ring.
//! - Format-preserving ciphertexts have no room for a key id:
//!   [`format_preserving_decrypt`](crate::techniques::format_preserving_decrypt) uses the active
//!   key. After a rotation, old ciphertexts must be decrypted with the retired key explicitly
//!   ([`format_preserving_decrypt_with`](crate::techniques::format_preserving_decrypt_with)) or
//!   re-encrypted while the old key is still at hand.
//! - Hashes, noise and randomized values change when the active key changes (they are one-way
//!   and carry no id): joins on hashed columns across a rotation boundary break, by design.
//!
//! Key material is wiped from memory when a key is dropped, and `Debug` shows only the id.

use std::fmt;
use std::path::Path;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

/// A failure to build a key or a key ring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The key has fewer than [`MaskingKey::MIN_LEN`] bytes.
    TooShort {
        /// How many bytes were given.
        len: usize,
    },
    /// The key file could not be read.
    Io {
        /// The key file's path, as given.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A key ring already holds a key with this id.
    DuplicateId(String),
    /// Key derivation failed (cannot happen with the fixed sub-key lengths; kept so that no
    /// code path panics).
    Derivation,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort { len } => write!(
                f,
                "a masking key needs at least {} bytes, this one has {len}",
                MaskingKey::MIN_LEN
            ),
            KeyError::Io { path, message } => {
                write!(f, "cannot read the key file `{path}`: {message}")
            }
            KeyError::DuplicateId(id) => {
                write!(f, "the key ring already holds a key with id `{id}`")
            }
            KeyError::Derivation => f.write_str("masking key derivation failed"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A masking key: its id and its per-purpose sub-keys (the raw bytes are not kept).
#[derive(Clone)]
pub struct MaskingKey {
    id: String,
    hash: [u8; 32],
    token: [u8; 64],
    fpe: [u8; 32],
    noise: [u8; 32],
}

impl MaskingKey {
    /// The minimum length of a key, in bytes.
    pub const MIN_LEN: usize = 16;

    /// Builds a key from its bytes (at least [`Self::MIN_LEN`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(KeyError::TooShort { len: bytes.len() });
        }
        let mut id_mac =
            <Hmac<Sha256> as Mac>::new_from_slice(bytes).map_err(|_| KeyError::Derivation)?;
        id_mac.update(b"pol key id");
        let digest = id_mac.finalize().into_bytes();
        let id = hex::encode(digest.get(..4).ok_or(KeyError::Derivation)?);

        let hk = Hkdf::<Sha256>::new(Some(b"pol masking key v1"), bytes);
        let mut key = MaskingKey {
            id,
            hash: [0; 32],
            token: [0; 64],
            fpe: [0; 32],
            noise: [0; 32],
        };
        hk.expand(b"pol hash v1", &mut key.hash)
            .map_err(|_| KeyError::Derivation)?;
        hk.expand(b"pol token v1", &mut key.token)
            .map_err(|_| KeyError::Derivation)?;
        hk.expand(b"pol fpe v1", &mut key.fpe)
            .map_err(|_| KeyError::Derivation)?;
        hk.expand(b"pol noise v1", &mut key.noise)
            .map_err(|_| KeyError::Derivation)?;
        Ok(key)
    }

    /// Reads a key file: its bytes, unchanged (no trimming, no decoding), are the key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let mut bytes = std::fs::read(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let key = Self::from_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// The key id: 8 lowercase hex characters, stable for the same key bytes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The HMAC-SHA256 key of `hash`.
    pub(crate) fn hash_key(&self) -> &[u8; 32] {
        &self.hash
    }

    /// The HMAC-SHA256 sub-key of `hash`, for a backend that computes `hash` outside this
    /// crate with the same output (`polc sql` stores it where only the database's masked views
    /// read it). The raw key and the other sub-keys are never exported.
    pub fn export_hash_key(&self) -> [u8; 32] {
        self.hash
    }

    /// The AES-256-SIV key of `tokenize`.
    pub(crate) fn token_key(&self) -> &[u8; 64] {
        &self.token
    }

    /// The FF1/AES-256 key of `format_preserving`.
    pub(crate) fn fpe_key(&self) -> &[u8; 32] {
        &self.fpe
    }

    /// The HMAC-SHA256 key seeding `noise` and `randomize`.
    pub(crate) fn noise_key(&self) -> &[u8; 32] {
        &self.noise
    }
}

impl Drop for MaskingKey {
    fn drop(&mut self) {
        self.hash.zeroize();
        self.token.zeroize();
        self.fpe.zeroize();
        self.noise.zeroize();
    }
}

impl fmt::Debug for MaskingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskingKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The keys of an engine: one active key for writing, retired keys for reading old tokens.
#[derive(Clone, Debug)]
pub struct KeyRing {
    active: MaskingKey,
    retired: Vec<MaskingKey>,
}

impl KeyRing {
    /// A ring holding only `active`.
    pub fn new(active: MaskingKey) -> Self {
        KeyRing {
            active,
            retired: Vec::new(),
        }
    }

    /// Adds a retired (read-only) key; fails if a key with the same id is already in the ring.
    pub fn add_retired(&mut self, key: MaskingKey) -> Result<(), KeyError> {
        if self.get(key.id()).is_some() {
            return Err(KeyError::DuplicateId(key.id().to_owned()));
        }
        self.retired.push(key);
        Ok(())
    }

    /// Builder form of [`add_retired`](Self::add_retired).
    pub fn with_retired(mut self, key: MaskingKey) -> Result<Self, KeyError> {
        self.add_retired(key)?;
        Ok(self)
    }

    /// The active key, used for every technique that writes.
    pub fn active(&self) -> &MaskingKey {
        &self.active
    }

    /// The key (active or retired) with this id.
    pub fn get(&self, id: &str) -> Option<&MaskingKey> {
        std::iter::once(&self.active)
            .chain(&self.retired)
            .find(|k| k.id() == id)
    }

    /// The ids of every key in the ring, the active one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.active)
            .chain(&self.retired)
            .map(MaskingKey::id)
    }
}

impl From<MaskingKey> for KeyRing {
    fn from(active: MaskingKey) -> Self {
        KeyRing::new(active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef";

    #[test]
    fn rejects_short_keys() {
        assert_eq!(
            MaskingKey::from_bytes(b"short").map(|_| ()),
            Err(KeyError::TooShort { len: 5 })
        );
        assert_eq!(
            KeyError::TooShort { len: 5 }.to_string(),
            "a masking key needs at least 16 bytes, this one has 5"
        );
    }

    #[test]
    fn id_is_stable_and_debug_hides_material() {
        let a = MaskingKey::from_bytes(KEY).expect("valid key");
        let b = MaskingKey::from_bytes(KEY).expect("valid key");
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 8);
        assert!(a
            .id()
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_uppercase()));
        // Known answer, computed independently: HMAC-SHA256(KEY, "pol key id")[..4].
        assert_eq!(a.id(), "1cd883bb");
        let dbg = format!("{a:?}");
        assert_eq!(dbg, format!("MaskingKey {{ id: {:?}, .. }}", a.id()));
        let other = MaskingKey::from_bytes(b"0123456789abcdeg").expect("valid key");
        assert_ne!(a.id(), other.id());
    }

    #[test]
    fn sub_keys_are_independent() {
        let k = MaskingKey::from_bytes(KEY).expect("valid key");
        assert_ne!(k.hash_key(), k.fpe_key());
        assert_ne!(k.hash_key(), k.noise_key());
        assert_ne!(k.fpe_key(), k.noise_key());
        assert_ne!(&k.token_key()[..32], k.hash_key());
    }

    #[test]
    fn from_file_reads_raw_bytes() {
        let dir = std::env::temp_dir().join(format!("pol-keys-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("key.bin");
        std::fs::write(&path, KEY).expect("write key");
        let k = MaskingKey::from_file(&path).expect("reads");
        assert_eq!(k.id(), MaskingKey::from_bytes(KEY).expect("valid").id());
        std::fs::remove_dir_all(&dir).ok();
        let err = MaskingKey::from_file(dir.join("missing")).expect_err("missing file");
        assert!(matches!(err, KeyError::Io { .. }));
    }

    #[test]
    fn ring_lookup_and_duplicates() {
        let old = MaskingKey::from_bytes(b"old key 0123456789").expect("valid");
        let new = MaskingKey::from_bytes(b"new key 0123456789").expect("valid");
        let (old_id, new_id) = (old.id().to_owned(), new.id().to_owned());
        let ring = KeyRing::new(new).with_retired(old).expect("distinct");
        assert_eq!(ring.active().id(), new_id);
        assert_eq!(ring.get(&old_id).map(MaskingKey::id), Some(old_id.as_str()));
        assert!(ring.get("00000000").is_none() || old_id == "00000000" || new_id == "00000000");
        assert_eq!(
            ring.ids().collect::<Vec<_>>(),
            vec![new_id.as_str(), old_id.as_str()]
        );
        let dup = MaskingKey::from_bytes(b"old key 0123456789").expect("valid");
        let mut ring = ring;
        assert_eq!(ring.add_retired(dup), Err(KeyError::DuplicateId(old_id)));
    }
}
