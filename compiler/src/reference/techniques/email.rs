//! `email_mask`: `*******`, a dot and the domain's last dot-suffix. The domain is what follows
//! the last `@`; without an `@`, without a dot in the domain, or with nothing after its last
//! dot, the result is `*******` alone.

use super::partial::REDACTED;

/// `email_mask` of a non-empty text.
pub fn email_mask(s: &str) -> String {
    let Some((_, domain)) = s.rsplit_once('@') else {
        return REDACTED.to_string();
    };
    match domain.rsplit_once('.') {
        Some((_, suffix)) if !suffix.is_empty() => format!("{REDACTED}.{suffix}"),
        _ => REDACTED.to_string(),
    }
}
