//! Reading one variable: trimmed, empty counting as unset, a default when unset, and the one
//! wording per kind of value for a value that cannot be used.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::time::Duration;

use super::ConfigError;

/// The variables, looked up through a function (the process environment, or a map in tests).
pub(super) struct Vars<F>(pub(super) F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    /// The trimmed value; `None` when unset or empty.
    pub(super) fn text(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// An integer within `range`, or `default` when unset (the default is not checked: the
    /// core count may exceed a range's end).
    pub(super) fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: TryFrom<i64> + PartialOrd + Display,
    {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        // Read as an `i64` whatever `T` is: an unsigned parse would refuse `-0`, which has
        // always been accepted as 0.
        text.parse::<i64>()
            .ok()
            .and_then(|n| T::try_from(n).ok())
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let (min, max) = range.into_inner();
                ConfigError::new(name, format!("must be an integer from {min} to {max}"))
            })
    }

    /// Whole seconds from 1 to `max`, or `default` when unset.
    pub(super) fn seconds(
        &self,
        name: &'static str,
        default: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.number(name, default, 1..=max).map(Duration::from_secs)
    }

    /// `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case; `default` when unset.
    pub(super) fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(_) => Err(ConfigError::new(name, "must be true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &'static str) -> Vars<impl Fn(&str) -> Option<String>> {
        Vars(move |_: &str| Some(value.to_owned()))
    }

    #[test]
    fn numbers_are_integers_in_range_whatever_their_type() {
        assert_eq!(one(" 42 ").number("N", 7_u16, 0..=65_535), Ok(42));
        assert_eq!(one("-0").number("N", 7_u16, 0..=65_535), Ok(0));
        assert_eq!(one("+5").number("N", 7_u32, 1..=10), Ok(5));
        assert_eq!(one("").number("N", 7_u32, 1..=10), Ok(7));
        for bad in ["70000", "-1", "1.5", "http", "99999999999999999999"] {
            let err = one(bad).number("N", 7_u16, 0..=65_535).unwrap_err();
            assert_eq!(
                err.to_string(),
                "invalid configuration: N must be an integer from 0 to 65535",
                "{bad}"
            );
        }
    }

    #[test]
    fn seconds_start_at_one() {
        assert_eq!(one("2").seconds("S", 5, 10), Ok(Duration::from_secs(2)));
        assert_eq!(
            one("0").seconds("S", 5, 10).unwrap_err().problem,
            "must be an integer from 1 to 10"
        );
    }

    #[test]
    fn flags_read_the_usual_words() {
        assert_eq!(one("ON").flag("F", false), Ok(true));
        assert_eq!(one("no").flag("F", true), Ok(false));
        assert_eq!(
            one("maybe").flag("F", true).unwrap_err().to_string(),
            "invalid configuration: F must be true or false"
        );
    }
}
