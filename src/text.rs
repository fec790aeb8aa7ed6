//! Number and word formatting shared by the analysis messages and the
//! reports, and the one escape of text from logs that every output applies.

use std::borrow::Cow;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The singular or the plural of a noun counted `n` times, so that call
/// sites format the number as they need: `format!("{n} {}", noun(n, "file", "files"))`.
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Whether `c` can change what a reader sees beyond itself: a control
/// character (C0, DEL, C1: cursor moves, colours, terminal titles, a forged
/// line) or a bidirectional formatting character (U+202E turns
/// `exe.txt` into what reads as `txt.exe`).
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `value` with every [`is_deceptive`] character written as its escape
/// (`\u{1b}`), so that log text shows what it holds instead of acting on
/// the terminal, spreadsheet or page it is shown in. Characters in `keep`
/// stay as they are.
pub fn escape_deceptive<'a>(value: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !value.chars().any(|c| is_deceptive(c) && !keep.contains(&c)) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if is_deceptive(c) && !keep.contains(&c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_812), "1,812");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        assert_eq!(
            escape_deceptive("kv\u{1b}]0;owned\u{7}\r\nfake", &[]),
            "kv\\u{1b}]0;owned\\u{7}\\u{d}\\u{a}fake"
        );
        assert_eq!(
            escape_deceptive("invoice\u{202e}txt.exe", &[]),
            "invoice\\u{202e}txt.exe"
        );
        assert_eq!(escape_deceptive("a\nb", &['\n']), "a\nb");
        assert!(matches!(
            escape_deceptive("kv-prod é 日本", &[]),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(noun(1, "entity", "entities"), "entity");
        assert_eq!(noun(0, "entity", "entities"), "entities");
        assert_eq!(noun(2, "entity", "entities"), "entities");
    }
}
