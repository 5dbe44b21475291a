//! The binary form of a bundle.
//!
//! ```text
//! offset  size  content
//! 0       4     magic "POLB"
//! 4       2     format version, u16 little-endian (FORMAT_VERSION)
//! 6       4     body length in bytes, u32 little-endian
//! 10      32    SHA-256 of the body
//! 42      n     body: the Bundle's tables, encoded with postcard (serde), then (from
//!               version 2 on) its debug section (`DebugInfo`, postcard)
//! ```
//!
//! Versions: 1 has no debug section; 2 appends it (source spans of the programs, for the
//! disassembler); 3 appends the k-anonymity section after it (`Vec<KAnonymityPlan>`, postcard).
//! From version 2 on, an optional last section holds the lookup tables (`Vec<LookupPlan>`,
//! written only when the set declares a table). This runtime reads both ([`OLDEST_FORMAT_VERSION`] to [`FORMAT_VERSION`]): a
//! version-1 bundle loads with an empty debug section. [`Bundle::to_bytes`] writes the layout of
//! the bundle's own `format_version`.
//!
//! Reading checks, in order: the magic (a prefix of it is a truncation, anything else is a
//! foreign file), the version (a newer one is refused with a clear message), the length (fewer
//! bytes is a truncation, more is trailing garbage), the checksum, the decoding itself (with a
//! bound on nesting depth, so crafted input cannot exhaust the stack), the body's own
//! `format_version`, and finally the verifier. No input makes it panic or read out of bounds.

use std::cell::Cell;
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::guard::Guard;
use super::verify::{self, VerifyError};
use super::{Bundle, DebugInfo, KAnonymityPlan};
use crate::lookup::LookupPlan;

/// The four bytes every bundle starts with.
pub const MAGIC: &[u8; 4] = b"POLB";

/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 3;

/// The oldest format version this runtime reads.
pub const OLDEST_FORMAT_VERSION: u16 = 1;

/// The first format version with a debug section after the tables.
pub const DEBUG_SECTION_VERSION: u16 = 2;

/// The first format version with a k-anonymity section after the debug section.
pub const K_ANONYMITY_SECTION_VERSION: u16 = 3;

/// The length of the header (magic, version, body length, checksum).
pub const HEADER_LEN: usize = 4 + 2 + 4 + 32;

/// The deepest nesting of values the decoder accepts (bundle tables, types and constants all
/// count; real bundles stay far below).
pub const MAX_NESTING: u32 = 128;

/// Why bytes are not a usable bundle.
#[derive(Clone, Debug, PartialEq)]
pub enum BundleError {
    /// The bytes end before the bundle does.
    Truncated {
        /// How many bytes the bundle needs (at least).
        needed: usize,
        /// How many there are.
        found: usize,
    },
    /// The bytes do not start with `POLB`: not a Pol bundle.
    ForeignMagic {
        /// The first bytes found (at most four).
        found: Vec<u8>,
    },
    /// The bundle was written for a newer runtime.
    FutureVersion {
        /// The bundle's format version.
        found: u16,
        /// The newest version this runtime reads.
        supported: u16,
    },
    /// The bundle's format version is older than any this runtime reads.
    UnsupportedVersion {
        /// The bundle's format version.
        found: u16,
        /// The oldest version this runtime reads.
        supported: u16,
    },
    /// There are bytes after the body.
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The body does not match its checksum: the file is corrupted.
    ChecksumMismatch,
    /// The body passed its checksum but does not decode (a bundle written by a different
    /// build, or crafted).
    Malformed(String),
    /// The body nests values deeper than [`MAX_NESTING`].
    TooDeep,
    /// The bundle decodes but is internally inconsistent.
    Invalid(VerifyError),
    /// The bundle could not be encoded (only from [`Bundle::to_bytes`]).
    Encode(String),
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Truncated { needed, found } => write!(
                f,
                "the bundle is truncated: it needs {needed} bytes and has {found}"
            ),
            BundleError::ForeignMagic { found } => write!(
                f,
                "not a Pol bundle: it starts with {found:02x?} instead of \"POLB\""
            ),
            BundleError::FutureVersion { found, supported } => write!(
                f,
                "the bundle has format version {found}, newer than this runtime reads \
                 ({supported}); upgrade the runtime or rebuild the bundle with a matching polc"
            ),
            BundleError::UnsupportedVersion { found, supported } => write!(
                f,
                "the bundle has format version {found}, older than this runtime reads \
                 (versions {supported} to {FORMAT_VERSION}); rebuild it with a matching polc"
            ),
            BundleError::TrailingBytes { extra } => {
                write!(f, "the bundle has {extra} unexpected bytes after its body")
            }
            BundleError::ChecksumMismatch => {
                f.write_str("the bundle is corrupted: its body does not match its checksum")
            }
            BundleError::Malformed(m) => write!(f, "the bundle's body does not decode: {m}"),
            BundleError::TooDeep => write!(
                f,
                "the bundle's body nests values deeper than {MAX_NESTING} levels"
            ),
            BundleError::Invalid(e) => write!(f, "the bundle is inconsistent: {e}"),
            BundleError::Encode(m) => write!(f, "the bundle cannot be encoded: {m}"),
        }
    }
}

impl std::error::Error for BundleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BundleError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<VerifyError> for BundleError {
    fn from(e: VerifyError) -> Self {
        BundleError::Invalid(e)
    }
}

impl Bundle {
    /// Encodes the bundle (header, checksum, body). Does not verify it: call
    /// [`Bundle::verify`] first to find mistakes before shipping.
    pub fn to_bytes(&self) -> Result<Vec<u8>, BundleError> {
        let encode = |e: postcard::Error| BundleError::Encode(e.to_string());
        let mut body = postcard::to_allocvec(self).map_err(encode)?;
        if self.format_version >= DEBUG_SECTION_VERSION {
            body = postcard::to_extend(&self.debug, body).map_err(encode)?;
        }
        if self.format_version >= K_ANONYMITY_SECTION_VERSION {
            body = postcard::to_extend(&self.k_anonymity, body).map_err(encode)?;
        } else if !self.k_anonymity.is_empty() {
            return Err(BundleError::Encode(format!(
                "format version {} cannot hold k-anonymity (version {K_ANONYMITY_SECTION_VERSION} on)",
                self.format_version
            )));
        }
        // The optional lookup tables section comes last, and only when there are tables.
        if self.format_version >= DEBUG_SECTION_VERSION {
            if !self.lookups.is_empty() {
                body = postcard::to_extend(&self.lookups, body).map_err(encode)?;
            }
        } else if !self.lookups.is_empty() {
            return Err(BundleError::Encode(format!(
                "format version {} has no lookup tables section",
                self.format_version
            )));
        }
        let len = u32::try_from(body.len())
            .map_err(|_| BundleError::Encode("the body is larger than 4 GiB".to_owned()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.format_version.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&body));
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decodes and verifies a bundle. Never panics, whatever the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        let bundle = decode_unverified(bytes)?;
        verify::verify(&bundle)?;
        Ok(bundle)
    }
}

/// The fixed-size header after the magic: format version, body length, body digest.
struct Header<'h> {
    version: u16,
    len: usize,
    digest: &'h [u8],
}

impl<'h> Header<'h> {
    /// Reads the fields of a `HEADER_LEN`-byte header (`None` if it is shorter).
    fn parse(header: &'h [u8]) -> Option<Header<'h>> {
        let (_magic, rest) = header.split_first_chunk::<4>()?;
        let (version, rest) = rest.split_first_chunk::<2>()?;
        let (len, digest) = rest.split_first_chunk::<4>()?;
        Some(Header {
            version: u16::from_le_bytes(*version),
            len: u32::from_le_bytes(*len) as usize,
            digest,
        })
    }
}

/// Decodes a bundle without running the verifier (the checksum and every format check still
/// apply). Useful to inspect a bundle the verifier rejects.
pub fn decode_unverified(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let prefix = bytes.get(..bytes.len().min(4)).unwrap_or_default();
    if !MAGIC.starts_with(prefix) {
        return Err(BundleError::ForeignMagic {
            found: prefix.to_vec(),
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(BundleError::Truncated {
            needed: HEADER_LEN,
            found: bytes.len(),
        });
    }
    let (header, body) = bytes.split_at(HEADER_LEN);
    let Header {
        version,
        len,
        digest: expected,
    } = Header::parse(header).ok_or(BundleError::Truncated {
        needed: HEADER_LEN,
        found: bytes.len(),
    })?;
    if version > FORMAT_VERSION {
        return Err(BundleError::FutureVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version < OLDEST_FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion {
            found: version,
            supported: OLDEST_FORMAT_VERSION,
        });
    }
    if body.len() < len {
        return Err(BundleError::Truncated {
            needed: HEADER_LEN.saturating_add(len),
            found: bytes.len(),
        });
    }
    if body.len() > len {
        return Err(BundleError::TrailingBytes {
            extra: body.len() - len,
        });
    }
    let digest = Sha256::digest(body);
    if digest.as_slice() != expected {
        return Err(BundleError::ChecksumMismatch);
    }
    let hit = Cell::new(false);
    let mut de = postcard::Deserializer::from_bytes(body);
    let decoded = Bundle::deserialize(Guard::new(&mut de, MAX_NESTING, &hit)).and_then(|mut b| {
        if version >= DEBUG_SECTION_VERSION {
            b.debug = DebugInfo::deserialize(Guard::new(&mut de, MAX_NESTING, &hit))?;
        }
        if version >= K_ANONYMITY_SECTION_VERSION {
            b.k_anonymity =
                Vec::<KAnonymityPlan>::deserialize(Guard::new(&mut de, MAX_NESTING, &hit))?;
        }
        Ok(b)
    });
    let mut bundle = match decoded {
        Ok(b) => b,
        Err(_) if hit.get() => return Err(BundleError::TooDeep),
        Err(e) => return Err(BundleError::Malformed(e.to_string())),
    };
    let rest = de
        .finalize()
        .map_err(|e| BundleError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        if version < DEBUG_SECTION_VERSION {
            return Err(BundleError::Malformed(format!(
                "{} bytes left after the bundle",
                rest.len()
            )));
        }
        // The optional lookup tables section (see `Bundle::lookups`).
        let mut de = postcard::Deserializer::from_bytes(rest);
        bundle.lookups =
            match Vec::<LookupPlan>::deserialize(Guard::new(&mut de, MAX_NESTING, &hit)) {
                // `to_bytes` writes the section only when there are tables: one bundle, one encoding.
                Ok(l) if l.is_empty() => {
                    return Err(BundleError::Malformed(
                        "an empty lookup tables section after the bundle".to_owned(),
                    ))
                }
                Ok(l) => l,
                Err(_) if hit.get() => return Err(BundleError::TooDeep),
                Err(e) => return Err(BundleError::Malformed(e.to_string())),
            };
        match de.finalize() {
            Ok([]) => {}
            Ok(rest) => {
                return Err(BundleError::Malformed(format!(
                    "{} bytes left after the bundle",
                    rest.len()
                )))
            }
            Err(e) => return Err(BundleError::Malformed(e.to_string())),
        }
    }
    if bundle.format_version != version {
        return Err(BundleError::Malformed(format!(
            "the header says format version {version} and the body {}",
            bundle.format_version
        )));
    }
    Ok(bundle)
}
