//! What the mails say. Plain ASCII with lines under 76 characters, so lettre sends them as
//! 7bit, as written: the token stands alone on its line, whatever reads the mail.

use chrono::TimeDelta;

use super::tokens::Purpose;
use crate::mail::Mail;

/// The mail carrying `token` for `purpose` to `to`, saying how long the token lasts.
pub(super) fn mail(purpose: Purpose, to: String, token: &str, ttl: TimeDelta) -> Mail {
    let lasts = lifetime(ttl);
    let (subject, body) = match purpose {
        Purpose::PasswordReset => (
            "Reset your password",
            format!(
                "Someone asked to reset the password of the Posts API account\n\
                 registered with this address.\n\
                 \n\
                 If it was you, send this token to POST /reset-password, with your\n\
                 new password, within {lasts}. It works once.\n\
                 \n\
                 {token}\n\
                 \n\
                 If it was not you, ignore this message: the password stays as it is.\n"
            ),
        ),
        Purpose::EmailVerification => (
            "Verify your email address",
            format!(
                "Please confirm that this address belongs to your Posts API account:\n\
                 send this token to POST /users/verify within {lasts}.\n\
                 \n\
                 {token}\n\
                 \n\
                 If you did not register, ignore this message.\n"
            ),
        ),
    };
    Mail {
        purpose: purpose.as_str(),
        to,
        subject,
        body,
    }
}

/// `30 minutes`, `1 hour`, `48 hours`: whole hours as hours, anything else in minutes.
fn lifetime(ttl: TimeDelta) -> String {
    let minutes = ttl.num_minutes();
    let (n, unit) = if minutes >= 60 && minutes % 60 == 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_short_ascii_lines_with_the_token_alone_on_one() {
        let token = "x".repeat(43);
        for purpose in [Purpose::PasswordReset, Purpose::EmailVerification] {
            let m = mail(purpose, "a@b.c".into(), &token, TimeDelta::minutes(30));
            assert!(m.body.is_ascii());
            assert!(m.body.lines().all(|l| l.len() < 76), "{}", m.body);
            assert_eq!(m.body.lines().filter(|l| *l == token).count(), 1);
            assert!(m.body.contains("30 minutes"));
        }
    }

    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(lifetime(TimeDelta::minutes(30)), "30 minutes");
        assert_eq!(lifetime(TimeDelta::minutes(1)), "1 minute");
        assert_eq!(lifetime(TimeDelta::hours(1)), "1 hour");
        assert_eq!(lifetime(TimeDelta::hours(48)), "48 hours");
        assert_eq!(lifetime(TimeDelta::minutes(90)), "90 minutes");
    }
}
