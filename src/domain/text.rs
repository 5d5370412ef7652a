//! Bounded, trimmed text fields: each kind of text is one [`TextRule`], which both the parser and the
//! OpenAPI document read, so the document states exactly what the server enforces.

use super::Invalid;

/// What a text field accepts: at most `max` characters as sent, at least `min` once trimmed, and no
/// control characters (newlines and tabs only where `multiline`).
#[derive(Clone, Copy, Debug)]
pub struct TextRule {
    pub min: usize,
    pub max: usize,
    pub multiline: bool,
}

pub const TITLE: TextRule = TextRule::line(1, 200);
pub const DISPLAY_NAME: TextRule = TextRule::line(1, 80);
pub const SEARCH: TextRule = TextRule::line(0, 200);
pub const REQUIREMENTS: TextRule = TextRule::text(1, 10_000);
pub const DESCRIPTION: TextRule = TextRule::text(0, 10_000);
pub const REASON: TextRule = TextRule::text(1, 2000);
pub const NOTE: TextRule = TextRule::text(0, 2000);
pub const BIO: TextRule = TextRule::text(0, 2000);
pub const MESSAGE: TextRule = TextRule::text(1, 10_000);
pub const LINE_DESCRIPTION: TextRule = TextRule::line(1, 500);
pub const MEMO: TextRule = TextRule::text(0, 2000);
pub const LEGAL_NAME: TextRule = TextRule::line(1, 200);
pub const ADDRESS_LINE: TextRule = TextRule::line(1, 200);
pub const TAX_ID: TextRule = TextRule::line(1, 50);
pub const PAYMENT_REFERENCE: TextRule = TextRule::line(1, 200);
pub const REVIEW_COMMENT: TextRule = TextRule::text(0, 5000);
pub const REVIEW_REPLY: TextRule = TextRule::text(1, 2000);
pub const WEBHOOK_DESCRIPTION: TextRule = TextRule::line(0, 500);

/// Characters refused everywhere: Unicode's control characters (`char::is_control`).
const CONTROLS: &str = r"\u0000-\u001F\u007F-\u009F";
/// The same, less tab, line feed and carriage return.
const CONTROLS_BUT_BREAKS: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";
/// What `str::trim` removes (Unicode White_Space) that is not already a control character.
const SPACES: &str = r" \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

impl TextRule {
    const fn line(min: usize, max: usize) -> Self {
        TextRule {
            min,
            max,
            multiline: false,
        }
    }

    const fn text(min: usize, max: usize) -> Self {
        TextRule {
            min,
            max,
            multiline: true,
        }
    }

    /// Trims `raw` after checking its length as sent.
    pub fn parse(&self, raw: &str) -> Result<String, Invalid> {
        bounded(raw, self.min, self.max, self.multiline)
    }

    /// The rule as an ECMA/Python regular expression, for the OpenAPI document. Only `min` of 0 or 1
    /// is expressible (and used): 1 means "something besides white space".
    pub fn pattern(&self) -> String {
        let (refused, breaks) = if self.multiline {
            (CONTROLS_BUT_BREAKS, r"\t\n\r")
        } else {
            (CONTROLS, "")
        };
        let any = format!("[^{refused}]*");
        if self.min == 0 {
            format!("^{any}$")
        } else {
            format!("^{any}[^{refused}{SPACES}{breaks}]{any}$")
        }
    }
}

/// Checks the length of `raw` as sent (as JSON Schema's `maxLength` counts it), then trims it and
/// checks the minimum; control characters other than newlines and tabs are refused because they
/// break every client that displays them.
pub fn bounded(raw: &str, min: usize, max: usize, multiline: bool) -> Result<String, Invalid> {
    if raw.chars().count() > max {
        return Err(Invalid::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    // Checked before trimming, so a stray tab around a one-line value is refused, as the pattern says.
    let bad_control = raw
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad_control {
        return Err(Invalid::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    let value = raw.trim();
    if value.chars().count() < min {
        return Err(if min == 1 {
            Invalid::new("required", "must not be empty")
        } else {
            Invalid::new("too_short", format!("must be at least {min} characters"))
        });
    }
    Ok(value.to_string())
}

/// A title (of a service or an order): one line, 1 to 200 characters.
pub fn title(raw: &str) -> Result<String, Invalid> {
    TITLE.parse(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(bounded("  hi  ", 1, 6, false).unwrap(), "hi");
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

    #[test]
    fn length_is_counted_as_sent_like_max_length() {
        let padded = format!("  {}  ", "a".repeat(5));
        assert_eq!(bounded(&padded, 1, 5, false).unwrap_err().code, "too_long");
    }

    proptest::proptest! {
        /// What the documented pattern (and length) lets through, the parser accepts, and the other
        /// way round: the fuzzer and generated clients trust the document.
        #[test]
        fn parser_and_pattern_agree(raw in "(?s).{0,12}") {
            for rule in [TITLE, SEARCH, REQUIREMENTS, NOTE] {
                let rule = TextRule { max: 10, ..rule };
                let re = regex::Regex::new(&rule.pattern()).unwrap().is_match(&raw);
                let fits = raw.chars().count() <= rule.max;
                proptest::prop_assert_eq!(rule.parse(&raw).is_ok(), re && fits, "{:?} {:?}", rule, raw);
            }
        }
    }

    /// Every control and white-space code point (the ones the rules are about), alone, at either
    /// edge and inside, against every rule: random strings rarely hit them.
    #[test]
    fn parser_and_pattern_agree_on_every_special_character() {
        let rules = [
            TITLE,
            DISPLAY_NAME,
            SEARCH,
            REQUIREMENTS,
            DESCRIPTION,
            REASON,
            NOTE,
            BIO,
        ];
        let special = (0u32..=0x3000)
            .filter_map(char::from_u32)
            .filter(|c| c.is_control() || c.is_whitespace());
        for c in special {
            for raw in [
                c.to_string(),
                format!("{c}a"),
                format!("a{c}"),
                format!("a{c}a"),
            ] {
                for rule in rules {
                    let re = regex::Regex::new(&rule.pattern()).unwrap();
                    assert_eq!(
                        rule.parse(&raw).is_ok(),
                        re.is_match(&raw),
                        "{rule:?} {raw:?}"
                    );
                }
            }
        }
    }
}
