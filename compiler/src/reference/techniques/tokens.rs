//! The reversible techniques (docs/language.md, "Tokens and format-preserving encryption"):
//! `tokenize` (AES-256-SIV) and `format_preserving` (FF1 over AES-256 on one mixed-radix number).

use aes::Aes256;
use aes_siv::siv::Aes256Siv;
use aes_siv::KeyInit;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fpe::ff1::{FlexibleNumeralString, FF1};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use super::keys::Keys;

/// `tokenize`: `tok_`, the key id, `_`, and the unpadded base64url of AES-256-SIV(token
/// sub-key; associated data `pol token v1` then the key id; the value's UTF-8 bytes).
pub fn tokenize(keys: &Keys, text: &str) -> Option<String> {
    let mut siv = Aes256Siv::new_from_slice(&keys.token).ok()?;
    let sealed = siv
        .encrypt(
            [b"pol token v1".as_slice(), keys.id.as_bytes()],
            text.as_bytes(),
        )
        .ok()?;
    Some(format!(
        "tok_{}_{}",
        keys.id,
        URL_SAFE_NO_PAD.encode(sealed)
    ))
}

/// The smallest number of possible values FF1 may encrypt (NIST SP 800-38G).
const MIN_DOMAIN: u32 = 1_000_000;
/// The most letters and digits a value may have.
const MAX_SYMBOLS: usize = 4096;
/// Cycle walking gives up after this many encryptions.
const MAX_WALK: usize = 256;

/// One character of the value: a symbol of the alphabet or a kept separator.
#[derive(Clone, Copy)]
enum Char {
    Digit(u32),
    Lower(u32),
    Upper(u32),
    Kept(char),
}

impl Char {
    fn of(c: char) -> Option<Char> {
        let code = u32::from(c);
        Some(if c.is_ascii_digit() {
            Char::Digit(code - u32::from('0'))
        } else if c.is_ascii_lowercase() {
            Char::Lower(code - u32::from('a'))
        } else if c.is_ascii_uppercase() {
            Char::Upper(code - u32::from('A'))
        } else if c.is_alphanumeric() {
            // A letter or digit outside ASCII has no place in the alphabet: fail.
            return None;
        } else {
            Char::Kept(c)
        })
    }

    /// (radix, digit) of a symbol.
    fn symbol(self) -> Option<(u32, u32)> {
        match self {
            Char::Digit(d) => Some((10, d)),
            Char::Lower(d) | Char::Upper(d) => Some((26, d)),
            Char::Kept(_) => None,
        }
    }

    /// The same kind of character with digit `d`.
    fn with(self, d: u32) -> Option<char> {
        match self {
            Char::Digit(_) => char::from_digit(d, 10),
            Char::Lower(_) => char::from_u32(u32::from('a') + d),
            Char::Upper(_) => char::from_u32(u32::from('A') + d),
            Char::Kept(c) => Some(c),
        }
    }
}

/// SHA-256 of `pol fpe v1`, a zero byte, the source and the column (each preceded by its
/// length in bytes as 8 big-endian bytes), and the shape (`d` per digit, `l` per letter).
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

/// `x` as `width` bits, most significant first.
fn bits_of(x: &BigUint, width: u64) -> Vec<u16> {
    (0..width).rev().map(|i| u16::from(x.bit(i))).collect()
}

fn number_of(bits: &[u16]) -> BigUint {
    bits.iter().fold(BigUint::default(), |acc, b| {
        (acc << 1u32) + BigUint::from(u32::from(*b != 0))
    })
}

/// N encrypted with FF1 in radix 2 on the bit width of `count` − 1, again while the result is
/// `count` or more (at most 256 times).
fn encrypt_below(keys: &Keys, tweak: &[u8], n: BigUint, count: &BigUint) -> Option<BigUint> {
    let width = (count - 1u32).bits();
    let ff1 = FF1::<Aes256>::new(&keys.fpe, 2).ok()?;
    let mut x = n;
    for _ in 0..MAX_WALK {
        let encrypted = ff1
            .encrypt(tweak, &FlexibleNumeralString::from(bits_of(&x, width)))
            .ok()?;
        x = number_of(&Vec::<u16>::from(encrypted));
        if &x < count {
            return Some(x);
        }
    }
    None
}

/// `format_preserving` on an int: with n the number of decimal digits of |v|, the magnitudes
/// of n digits that are ints run from lo = 10^(n−1) to hi = min(10^n − 1, 2^63 − 1); N = |v| − lo
/// among M = hi − lo + 1 is encrypted as for a text (M ≥ 10^6, so n ≥ 7), under the shape `i`,
/// `-` when v < 0, and `d` per digit; the result is lo + the encrypted N, with v's sign.
pub fn format_preserving_int(keys: &Keys, source: &str, column: &str, v: i64) -> Option<i64> {
    let magnitude = v.checked_abs()?;
    let n_digits = magnitude.to_string().len() as u32;
    if n_digits < 2 {
        return None;
    }
    let lo = 10i64.pow(n_digits - 1);
    let hi = 10i64.checked_pow(n_digits).map_or(i64::MAX, |p| p - 1);
    let count = BigUint::from((hi - lo + 1) as u64);
    if count < BigUint::from(MIN_DOMAIN) {
        return None;
    }
    let mut shape = vec![b'i'];
    if v < 0 {
        shape.push(b'-');
    }
    shape.extend(std::iter::repeat_n(b'd', n_digits as usize));
    let tweak = tweak(source, column, &shape);
    let x = encrypt_below(keys, &tweak, BigUint::from((magnitude - lo) as u64), &count)?;
    let out = lo + i64::try_from(x).ok()?;
    Some(if v < 0 { -out } else { out })
}

/// `format_preserving`: the letters and digits form one number N in the mixed radix of the
/// value's shape (10 per digit, 26 per letter, the first the most significant), among M
/// strings of that shape; N is encrypted with FF1 in radix 2 on the bit width of M − 1, again
/// while the result is M or more (at most 256 times), and written back in the same shape.
pub fn format_preserving(keys: &Keys, source: &str, column: &str, text: &str) -> Option<String> {
    let chars: Vec<Char> = text.chars().map(Char::of).collect::<Option<_>>()?;
    let symbols: Vec<(u32, u32)> = chars.iter().filter_map(|c| c.symbol()).collect();
    if symbols.len() > MAX_SYMBOLS {
        return None;
    }
    let mut count = BigUint::from(1u32);
    let mut n = BigUint::default();
    for &(radix, digit) in &symbols {
        count *= radix;
        n = n * radix + digit;
    }
    if count < BigUint::from(MIN_DOMAIN) {
        return None;
    }
    let shape: Vec<u8> = symbols
        .iter()
        .map(|&(radix, _)| if radix == 10 { b'd' } else { b'l' })
        .collect();
    let tweak = tweak(source, column, &shape);
    let mut x = encrypt_below(keys, &tweak, n, &count)?;
    // Back to the mixed radix, the last symbol the least significant.
    let mut digits = vec![0u32; symbols.len()];
    for (slot, &(radix, _)) in digits.iter_mut().zip(&symbols).rev() {
        *slot = (&x % radix).to_u32_digits().first().copied().unwrap_or(0);
        x /= radix;
    }
    let mut digits = digits.into_iter();
    chars
        .iter()
        .map(|c| match c {
            Char::Kept(k) => Some(*k),
            _ => c.with(digits.next()?),
        })
        .collect()
}
