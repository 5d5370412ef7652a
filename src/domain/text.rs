//! Bounded, trimmed text fields.

use super::Invalid;

/// Trims `raw` and checks its length in characters; control characters other than newlines and tabs
/// are refused because they break every client that displays them.
pub fn bounded(raw: &str, min: usize, max: usize, multiline: bool) -> Result<String, Invalid> {
    let value = raw.trim();
    let len = value.chars().count();
    if len < min {
        return Err(if min == 1 {
            Invalid::new("required", "must not be empty")
        } else {
            Invalid::new("too_short", format!("must be at least {min} characters"))
        });
    }
    if len > max {
        return Err(Invalid::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    let bad_control = value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad_control {
        return Err(Invalid::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

/// A title (of a service or an order): one line, 1 to 200 characters.
pub fn title(raw: &str) -> Result<String, Invalid> {
    bounded(raw, 1, 200, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(bounded("  hi  ", 1, 5, false).unwrap(), "hi");
        assert_eq!(bounded("   ", 1, 5, false).unwrap_err().code, "required");
        assert_eq!(bounded("abcdef", 1, 5, false).unwrap_err().code, "too_long");
        assert_eq!(bounded("é", 1, 1, false).unwrap(), "é");
    }

    #[test]
    fn newlines_only_where_multiline() {
        assert!(bounded("a\nb", 1, 5, true).is_ok());
        assert_eq!(
            bounded("a\nb", 1, 5, false).unwrap_err().code,
            "invalid_characters"
        );
    }
}
