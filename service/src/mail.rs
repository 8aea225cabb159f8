//! Outgoing mail: plain-text messages sent over SMTP with `lettre`, or, where no SMTP server
//! is configured (development only), written as `.eml` files into an outbox directory.
//!
//! What a message says is the use case's business ([`crate::accounts`]); this module only
//! delivers it. The messages carry secrets (reset and verification tokens), so nothing here
//! ever logs a body or an address: each delivery logs one line naming its purpose, and the
//! outbox file it was written to, or why it failed.

use std::path::{Path, PathBuf};

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::Error;

/// Where mail goes and whom it is from, checked once at start-up.
#[derive(Clone)]
pub struct MailConfig {
    delivery: Delivery,
    from: Mailbox,
}

#[derive(Clone)]
enum Delivery {
    /// An `smtp://` or `smtps://` URL, credentials included.
    Smtp(String),
    /// The directory `.eml` files are written to.
    Outbox(PathBuf),
}

/// Which setting is unusable, and why (never echoing the SMTP URL, which may hold a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailConfigError {
    SmtpUrl(String),
    From(String),
}

// Hand-written so that the SMTP password never shows in a `{:?}` of the settings.
impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("delivery", &self.describe())
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl MailConfig {
    /// Mail sent through the SMTP server at `url` (`smtp://[user:pass@]host[:port]`, plain or
    /// with `?tls=required` for STARTTLS, or `smtps://` for implicit TLS), from `from`.
    ///
    /// # Errors
    /// `SmtpUrl` for a URL lettre cannot use; `From` for an address that is not a mailbox.
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailConfigError> {
        check_smtp_url(url)?;
        Ok(Self {
            delivery: Delivery::Smtp(url.to_owned()),
            from: mailbox(from)?,
        })
    }

    /// Mail written as `.eml` files into `dir` (created on first use), from `from`.
    ///
    /// # Errors
    /// `From` for an address that is not a mailbox.
    pub fn outbox(dir: PathBuf, from: &str) -> Result<Self, MailConfigError> {
        Ok(Self {
            delivery: Delivery::Outbox(dir),
            from: mailbox(from)?,
        })
    }

    /// The outbox directory, when mail goes to files rather than to an SMTP server.
    pub fn outbox_dir(&self) -> Option<&Path> {
        match &self.delivery {
            Delivery::Outbox(dir) => Some(dir),
            Delivery::Smtp(_) => None,
        }
    }

    /// Where mail goes, for the start-up log: the SMTP server's scheme, host and port (never
    /// its credentials), or the outbox directory.
    pub fn describe(&self) -> String {
        match &self.delivery {
            Delivery::Smtp(url) => match url::Url::parse(url) {
                Ok(u) => format!(
                    "SMTP server {}://{}:{}{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.port()
                        .map_or_else(|| "default port".to_owned(), |p| p.to_string()),
                    if u.query_pairs().any(|(k, v)| k == "tls" && v == "required") {
                        " (STARTTLS)"
                    } else {
                        ""
                    }
                ),
                Err(_) => "SMTP server".to_owned(),
            },
            Delivery::Outbox(dir) => format!("outbox directory {}", dir.display()),
        }
    }
}

/// What lettre's `from_url` accepts, refused with our own words: its errors may quote the URL.
fn check_smtp_url(url: &str) -> Result<(), MailConfigError> {
    let bad = |why: &str| MailConfigError::SmtpUrl(why.to_owned());
    let parsed = url::Url::parse(url).map_err(|_| bad("is not a URL"))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    match (parsed.scheme(), tls.as_deref()) {
        ("smtp", None | Some("required" | "opportunistic")) | ("smtps", None) => {}
        ("smtp" | "smtps", Some(_)) => {
            return Err(bad(
                "may only have ?tls=required or ?tls=opportunistic (smtp://)",
            ));
        }
        _ => return Err(bad("must start with smtp:// or smtps://")),
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(drop)
        .map_err(|_| bad("cannot be used (check the host, port and tls parameter)"))
}

fn mailbox(from: &str) -> Result<Mailbox, MailConfigError> {
    from.parse().map_err(|_| {
        MailConfigError::From("must be an address, optionally with a name: Name <a@b.c>".into())
    })
}

/// One plain-text message.
pub struct Mail {
    /// What it is for (`password_reset`, `email_verification`): the only thing the log says
    /// about it.
    pub purpose: &'static str,
    pub to: String,
    pub subject: &'static str,
    /// ASCII with short lines, so that it goes as 7bit, verbatim.
    pub body: String,
}

// Hand-written: the body holds a token, the address is personal.
impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// Delivers [`Mail`]. Built once at start-up, shared.
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

enum Transport {
    // No pool (lettre's `pool` feature is off): one connection per message, nothing held open
    // against a server that drops idle connections.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox {
        dir: PathBuf,
        files: AsyncFileTransport<Tokio1Executor>,
    },
}

impl Mailer {
    /// The transport `config` describes.
    ///
    /// # Errors
    /// `Internal` if the SMTP transport cannot be built (the URL was checked already).
    pub fn new(config: &MailConfig) -> Result<Self, Error> {
        let transport = match &config.delivery {
            Delivery::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| Error::Internal("cannot build the SMTP transport".into()))?
                    .build(),
            ),
            Delivery::Outbox(dir) => Transport::Outbox {
                dir: dir.clone(),
                files: AsyncFileTransport::new(dir),
            },
        };
        Ok(Self {
            from: config.from.clone(),
            transport,
        })
    }

    /// Sends `mail` and logs the outcome in one line: INFO naming the purpose (and the file,
    /// in the outbox), or WARN saying why it failed. Never the body or the address. Callers
    /// run this in the background: no answer waits for mail.
    pub async fn deliver(&self, mail: Mail) {
        let purpose = mail.purpose;
        match self.try_deliver(mail).await {
            Ok(Some(file)) => log::info!("mail: {purpose} message written to {}", file.display()),
            Ok(None) => log::info!("mail: {purpose} message sent"),
            Err(why) => log::warn!("mail: {purpose} message not sent: {why}"),
        }
    }

    /// The outbox file written, if any.
    async fn try_deliver(&self, mail: Mail) -> Result<Option<PathBuf>, String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| "the recipient's address is not one SMTP can take".to_owned())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| None)
                .map_err(|e| e.to_string()),
            Transport::Outbox { dir, files } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let id = files.send(message).await.map_err(|e| e.to_string())?;
                Ok(Some(dir.join(format!("{id}.eml"))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked_without_being_echoed() {
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://user:pass@mail.example.com:587?tls=required",
            "smtps://user:pass@mail.example.com",
        ] {
            assert!(MailConfig::smtp(ok, "a@b.c").is_ok(), "{ok}");
        }
        for bad in [
            "mail.example.com",
            "http://user:secret@mail.example.com",
            "smtp://user:secret@mail.example.com?tls=sometimes",
            "smtp://",
        ] {
            match MailConfig::smtp(bad, "a@b.c") {
                Err(MailConfigError::SmtpUrl(why)) => assert!(!why.contains("secret"), "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            MailConfig::smtp("smtp://h", "not an address"),
            Err(MailConfigError::From(_))
        ));
    }

    #[test]
    fn the_description_and_debug_hide_the_credentials() {
        let c = MailConfig::smtp(
            "smtp://ann:s3cret@mail.example.com:587?tls=required",
            "a@b.c",
        )
        .unwrap();
        assert_eq!(
            c.describe(),
            "SMTP server smtp://mail.example.com:587 (STARTTLS)"
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.outbox_dir().is_none());
    }

    #[tokio::test]
    async fn the_outbox_gets_one_eml_file_per_message_with_the_body_verbatim() {
        let dir = std::env::temp_dir().join(format!("mail-outbox-test-{}", std::process::id()));
        let config = MailConfig::outbox(dir.clone(), "Posts API <no-reply@localhost>").unwrap();
        let mailer = Mailer::new(&config).unwrap();
        mailer
            .deliver(Mail {
                purpose: "password_reset",
                to: "ann@example.com".into(),
                subject: "Reset",
                body: "Your token:\n\nabc-DEF_123\n".into(),
            })
            .await;
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(text.contains("To: ann@example.com"), "{text}");
        assert!(text.contains("\r\nabc-DEF_123\r\n"), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 7bit"), "{text}");
    }
}
