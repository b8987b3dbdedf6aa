//! Human-entered text fields (names, codes).

/// A trimmed, non-empty name of at most `max` characters without control characters.
pub fn name(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// A code: 1–32 characters of ASCII letters, digits, `-`, `_` or `.`.
pub fn code(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 32 {
        return Err("must be 1 to 32 characters".into());
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err("may contain only ASCII letters, digits, '-', '_' and '.'".into());
    }
    Ok(s.to_string())
}
