//! `format_preserving`: FF1 (NIST SP 800-38G) over AES-256, and its inverse.
//!
//! The letters and digits of the value are encrypted; every other character stays where it is.
//! Digits stay digits, letters stay letters and keep their case; the length is unchanged.
//!
//! # Construction
//!
//! The value's ASCII letters and digits form one *mixed-radix* number: each digit position has
//! radix 10, each letter position radix 26 (case is kept aside). With `M` the product of the
//! radices (the number of strings of that shape) and `N` the value's index among them, `N` is
//! encrypted with FF1 in radix 2 over `b` bits, `b` the bit length of `M − 1`, by *cycle walking*
//! (Black–Rogaway): encrypt again while the result is ≥ `M` (fewer than 2 rounds on average since
//! `M > 2^(b−1)`). The result is written back in the same mixed radix. This treats a string such as
//! `AB-123456` as one FF1 domain rather than two small ones (26² letter strings alone would be far
//! too few to encrypt).
//!
//! The tweak is SHA-256 of the source and column (length-prefixed) and the shape (which positions
//! are digits and which letters), so equal values in different columns encrypt differently and
//! the inverse must be given the same source and column.
//!
//! # Limits (all fail closed, as errors)
//!
//! - `M` must be at least 1,000,000 — NIST's minimum FF1 domain (e.g. at least 6 digits, or 5
//!   letters, or 2 letters and 3 digits). Shorter values cannot be encrypted securely and fail.
//! - Letters and digits outside ASCII (`é`, `٣`) have no place in the alphabet and fail, rather
//!   than being kept in clear as if they were separators.
//! - At most 4096 letters and digits.
//!
//! # Ints
//!
//! An int keeps its sign and its number of decimal digits. With n the number of digits of |v|
//! (n ≥ 2), the domain is every magnitude of n digits that fits an int, `lo = 10^(n−1)` to
//! `hi = min(10^n − 1, 2^63 − 1)`; `|v| − lo` is encrypted as above with `M = hi − lo + 1` and
//! written back as `lo + x` with v's sign. The shape in the tweak is `i`, then `-` for a negative
//! value, then one `d` per digit, so an int never shares a tweak with a text. M ≥ 10^6 needs
//! n ≥ 7 (9·10^6 values): shorter ints fail (the cell is null), as does `i64::MIN`, whose
//! magnitude is not an int.
//!
//! # Keys
//!
//! A ciphertext has no room for a key id. [`format_preserving_decrypt`] uses the key ring's active
//! key: after a key rotation, ciphertexts made under the old key must be decrypted with
//! [`format_preserving_decrypt_with`] and the retired key (or re-encrypted before the rotation).

use aes::Aes256;
use fpe::ff1::{FlexibleNumeralString, FF1};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use super::{invalid, unsupported, TechniqueError};
use crate::keys::{KeyRing, MaskingKey};

const NAME: &str = "format_preserving";
/// NIST SP 800-38G Rev. 1 minimum domain size.
const MIN_DOMAIN: u32 = 1_000_000;
const MAX_SYMBOLS: usize = 4096;
/// Cycle walking stops after this many steps (each step exits with probability > ½).
const MAX_WALK: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit,
    Lower,
    Upper,
    Other,
}

impl Class {
    fn radix(self) -> u32 {
        match self {
            Class::Digit => 10,
            Class::Lower | Class::Upper => 26,
            Class::Other => 1,
        }
    }
}

fn classify(c: char) -> Result<(Class, u32), TechniqueError> {
    let n = u32::from(c);
    if c.is_ascii_digit() {
        Ok((Class::Digit, n - u32::from('0')))
    } else if c.is_ascii_lowercase() {
        Ok((Class::Lower, n - u32::from('a')))
    } else if c.is_ascii_uppercase() {
        Ok((Class::Upper, n - u32::from('A')))
    } else if c.is_alphanumeric() {
        Err(unsupported(
            NAME,
            "only ASCII letters and digits can be encrypted",
        ))
    } else {
        Ok((Class::Other, 0))
    }
}

fn symbol(class: Class, v: u32, original: char) -> Option<char> {
    match class {
        Class::Digit => char::from_digit(v, 10),
        Class::Lower => char::from_u32(u32::from('a') + v),
        Class::Upper => char::from_u32(u32::from('A') + v),
        Class::Other => Some(original),
    }
}

fn tweak(source: &str, column: &str, shape: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"pol fpe v1\0");
    h.update((source.len() as u64).to_be_bytes());
    h.update(source.as_bytes());
    h.update((column.len() as u64).to_be_bytes());
    h.update(column.as_bytes());
    h.update(shape);
    h.finalize().to_vec()
}

fn to_bits(x: &BigUint, b: usize) -> Result<FlexibleNumeralString, TechniqueError> {
    let digits = x.to_radix_be(2);
    let pad = b
        .checked_sub(digits.len())
        .ok_or_else(|| invalid(NAME, "internal: value wider than its domain"))?;
    let mut bits = vec![0u16; pad];
    bits.extend(digits.iter().map(|d| u16::from(*d)));
    Ok(FlexibleNumeralString::from(bits))
}

fn from_bits(ns: FlexibleNumeralString) -> BigUint {
    let bits: Vec<u16> = ns.into();
    let mut x = BigUint::default();
    for bit in bits {
        x <<= 1u32;
        if bit != 0 {
            x += 1u32;
        }
    }
    x
}

/// Encrypts (or decrypts) `n` < `domain` with FF1 in radix 2 over the bit length of
/// `domain − 1`, cycle walking until the result is below `domain`.
fn walk(
    key: &MaskingKey,
    tweak: &[u8],
    n: BigUint,
    domain: &BigUint,
    forward: bool,
) -> Result<BigUint, TechniqueError> {
    let max = domain - 1u32;
    let b = usize::try_from(max.bits()).map_err(|_| unsupported(NAME, "value too long"))?;
    let ff1 = FF1::<Aes256>::new(key.fpe_key(), 2).map_err(|_| invalid(NAME, "bad radix"))?;
    let mut x = n;
    for _ in 0..MAX_WALK {
        let ns = to_bits(&x, b)?;
        let next = if forward {
            ff1.encrypt(tweak, &ns)
        } else {
            ff1.decrypt(tweak, &ns)
        }
        .map_err(|e| unsupported(NAME, e.to_string()))?;
        x = from_bits(next);
        if &x < domain {
            return Ok(x);
        }
    }
    Err(unsupported(NAME, "cycle walking did not terminate"))
}

fn crypt(
    key: &MaskingKey,
    source: &str,
    column: &str,
    text: &str,
    forward: bool,
) -> Result<String, TechniqueError> {
    let chars: Vec<(char, Class, u32)> = text
        .chars()
        .map(|c| classify(c).map(|(class, v)| (c, class, v)))
        .collect::<Result<_, _>>()?;
    let symbols: Vec<(Class, u32)> = chars
        .iter()
        .filter(|(_, class, _)| *class != Class::Other)
        .map(|(_, class, v)| (*class, *v))
        .collect();
    if symbols.len() > MAX_SYMBOLS {
        return Err(unsupported(NAME, "more than 4096 letters and digits"));
    }
    let mut domain = BigUint::from(1u32);
    let mut n = BigUint::default();
    for (class, v) in &symbols {
        domain *= class.radix();
        n = n * class.radix() + *v;
    }
    if domain < BigUint::from(MIN_DOMAIN) {
        return Err(unsupported(
            NAME,
            "too few letters and digits for format-preserving encryption \
             (needs at least 10^6 possible values, e.g. 6 digits or 5 letters)",
        ));
    }
    let shape: Vec<u8> = symbols
        .iter()
        .map(|(class, _)| if *class == Class::Digit { b'd' } else { b'l' })
        .collect();
    let tweak = tweak(source, column, &shape);
    let mut x = walk(key, &tweak, n, &domain, forward)?;
    // Write x back in the mixed radix, least significant position last.
    let mut values = vec![0u32; symbols.len()];
    for (slot, (class, _)) in values.iter_mut().zip(&symbols).rev() {
        let r = class.radix();
        let digit = &x % r;
        *slot = digit.to_u32_digits().first().copied().unwrap_or(0);
        x /= r;
    }
    let mut values = values.into_iter();
    let mut out = String::with_capacity(text.len());
    for (c, class, _) in chars {
        let v = if class == Class::Other {
            0
        } else {
            values.next().unwrap_or(0)
        };
        out.push(symbol(class, v, c).ok_or_else(|| invalid(NAME, "internal: bad symbol"))?);
    }
    Ok(out)
}

/// The ints of `digits` decimal digits (`digits` ≥ 2: a first digit of 1–9) that fit an `i64`
/// in absolute value: `lo..=hi`.
fn int_domain(digits: u32) -> Option<(u64, u64)> {
    let lo = 10u64.checked_pow(digits.checked_sub(1)?)?;
    let hi = 10u64
        .checked_pow(digits)
        .map_or(i64::MAX as u64, |p| (p - 1).min(i64::MAX as u64));
    Some((lo, hi))
}

fn crypt_int(
    key: &MaskingKey,
    source: &str,
    column: &str,
    value: i64,
    forward: bool,
) -> Result<i64, TechniqueError> {
    let negative = value < 0;
    let magnitude = value.unsigned_abs();
    let digits = magnitude.checked_ilog10().map_or(1, |l| l + 1);
    let (lo, hi) = int_domain(digits)
        .filter(|(lo, hi)| hi - lo + 1 >= u64::from(MIN_DOMAIN))
        .ok_or_else(|| {
            unsupported(
                NAME,
                "too few digits for format-preserving encryption \
                 (an int needs at least 7 digits: 9·10^6 possible values)",
            )
        })?;
    if magnitude > hi {
        return Err(unsupported(
            NAME,
            "the value's magnitude does not fit an int",
        ));
    }
    let mut shape = vec![b'i'];
    if negative {
        shape.push(b'-');
    }
    shape.extend(std::iter::repeat_n(b'd', digits as usize));
    let tweak = tweak(source, column, &shape);
    let domain = BigUint::from(hi - lo + 1);
    let x = walk(key, &tweak, BigUint::from(magnitude - lo), &domain, forward)?;
    let offset = x.to_u64_digits().first().copied().unwrap_or(0);
    let out = lo
        .checked_add(offset)
        .and_then(|m| i64::try_from(m).ok())
        .ok_or_else(|| invalid(NAME, "internal: result outside its domain"))?;
    Ok(if negative { -out } else { out })
}

/// Encrypts the int `value` for `source.column` under `key`: same sign, same number of digits.
pub(crate) fn encrypt_int(
    key: &MaskingKey,
    source: &str,
    column: &str,
    value: i64,
) -> Result<i64, TechniqueError> {
    crypt_int(key, source, column, value, true)
}

/// The inverse of `format_preserving` on an int column `source`.`column`, under the key ring's
/// **active** key.
pub fn format_preserving_decrypt_int(
    ciphertext: i64,
    source: &str,
    column: &str,
    keys: &KeyRing,
) -> Result<i64, TechniqueError> {
    format_preserving_decrypt_int_with(ciphertext, source, column, keys.active())
}

/// The inverse of `format_preserving` on an int column under a given key.
pub fn format_preserving_decrypt_int_with(
    ciphertext: i64,
    source: &str,
    column: &str,
    key: &MaskingKey,
) -> Result<i64, TechniqueError> {
    crypt_int(key, source, column, ciphertext, false)
}

/// Encrypts `text` for `source.column` under `key`.
pub(crate) fn encrypt(
    key: &MaskingKey,
    source: &str,
    column: &str,
    text: &str,
) -> Result<String, TechniqueError> {
    crypt(key, source, column, text, true)
}

/// The inverse of `format_preserving` on `source`.`column`, under the key ring's **active** key
/// (a ciphertext carries no key id; see the module notes on rotation).
pub fn format_preserving_decrypt(
    ciphertext: &str,
    source: &str,
    column: &str,
    keys: &KeyRing,
) -> Result<String, TechniqueError> {
    format_preserving_decrypt_with(ciphertext, source, column, keys.active())
}

/// The inverse of `format_preserving` on `source`.`column` under a given key, e.g. a retired one.
///
/// FF1 is unauthenticated: decrypting under the wrong key, source or column yields a wrong value
/// of the same shape, not an error.
pub fn format_preserving_decrypt_with(
    ciphertext: &str,
    source: &str,
    column: &str,
    key: &MaskingKey,
) -> Result<String, TechniqueError> {
    crypt(key, source, column, ciphertext, false)
}
