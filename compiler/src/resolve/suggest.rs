//! "Did you mean …?" suggestions for undeclared names.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = if c.to_lowercase() == lower {
            1.0
        } else {
            strsim::jaro_winkler(&lower, &c.to_lowercase())
        };
        let threshold = if name.len() <= 3 { 0.9 } else { 0.82 };
        if score >= threshold && best.is_none_or(|(s, b)| score > s || (score == s && c < b)) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let names = ["PII.Email", "PII.Phone", "Country"];
        assert_eq!(did_you_mean("PII.Emial", names), Some("PII.Email"));
        assert_eq!(did_you_mean("country", names), Some("Country"));
        assert_eq!(did_you_mean("Salary", names), None);
        assert_eq!(did_you_mean("PII.Email", names), None);
    }
}
