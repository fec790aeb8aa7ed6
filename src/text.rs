//! Number and word formatting shared by the analysis messages and the reports.

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
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(noun(1, "entity", "entities"), "entity");
        assert_eq!(noun(0, "entity", "entities"), "entities");
        assert_eq!(noun(2, "entity", "entities"), "entities");
    }
}
