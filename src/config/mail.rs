//! Notifications: where mail goes, what links in it point at, and how the worker retries.

use std::time::Duration;

use secrecy::SecretString;

use super::{duration, parse, ConfigError, Environment, Lookup};
use crate::domain::notify::RetryPolicy;

#[derive(Clone, Debug)]
pub enum MailTransport {
    /// `SMTP_URL`: `smtp://host:25` (plain, or `?tls=required` for STARTTLS), `smtps://user:pass@host:465`.
    /// Secret: the URL may hold the password.
    Smtp(SecretString),
    /// No `SMTP_URL`: each mail is written as an `.eml` file here (`MAIL_DIR`, default `./data/mail`).
    Files(std::path::PathBuf),
}

#[derive(Clone, Debug)]
pub struct NotificationSettings {
    pub transport: MailTransport,
    /// The `From` of every mail.
    pub mail_from: String,
    /// Where links in mail point (the web app's address).
    pub public_base_url: String,
    /// The support team's address: the OpenAPI contact and every mail's footer.
    pub support_email: String,
    pub require_email_verification: bool,
    /// The worker looks for due work this often even when nothing wakes it.
    pub poll_interval: Duration,
    /// A claimed email is the claimer's for this long; a worker that dies mid-send leaves it due
    /// again after this.
    pub lease: Duration,
    pub retry: RetryPolicy,
    /// Whether `serve` runs the worker too (`createspace worker` runs it alone).
    pub worker_in_serve: bool,
}

impl NotificationSettings {
    pub(super) fn from_lookup(get: Lookup<'_>, env: Environment) -> Result<Self, ConfigError> {
        let transport = match get("SMTP_URL") {
            Some(url) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(ConfigError::Invalid {
                        var: "SMTP_URL",
                        reason: "must start with smtp:// or smtps://".into(),
                    });
                }
                MailTransport::Smtp(url.into())
            }
            None if env == Environment::Production => {
                return Err(ConfigError::Missing { var: "SMTP_URL" })
            }
            None => MailTransport::Files(
                get("MAIL_DIR")
                    .unwrap_or_else(|| "./data/mail".into())
                    .into(),
            ),
        };
        let mail_from = get("MAIL_FROM")
            .unwrap_or_else(|| "CreateSpace <no-reply@createspace.localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid {
                var: "MAIL_FROM",
                reason: format!(
                    "`{mail_from}` is not an address such as `CreateSpace <no-reply@example.com>`"
                ),
            });
        }
        // Reset and verification links point here: in production, the real web app over https.
        let public_base_url = match get("PUBLIC_BASE_URL") {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if env == Environment::Production => {
                return Err(ConfigError::Missing {
                    var: "PUBLIC_BASE_URL",
                })
            }
            None => "http://127.0.0.1:8080".into(),
        };
        let https = public_base_url.starts_with("https://");
        if !(https || public_base_url.starts_with("http://") && env != Environment::Production) {
            return Err(ConfigError::Invalid {
                var: "PUBLIC_BASE_URL",
                reason: "must be an https URL (http is accepted in development)".into(),
            });
        }
        let max_attempts: i32 = parse(get, "NOTIFICATION_MAX_ATTEMPTS", 8)?;
        if max_attempts < 1 {
            return Err(ConfigError::Invalid {
                var: "NOTIFICATION_MAX_ATTEMPTS",
                reason: "must be at least 1".into(),
            });
        }
        Ok(NotificationSettings {
            transport,
            mail_from,
            public_base_url,
            support_email: get("SUPPORT_EMAIL").unwrap_or_else(|| "contact@tristetix.com".into()),
            require_email_verification: parse(
                get,
                "REQUIRE_EMAIL_VERIFICATION",
                env == Environment::Production,
            )?,
            poll_interval: duration(get, "NOTIFICATION_POLL_INTERVAL", "2s")?,
            lease: duration(get, "NOTIFICATION_LEASE", "2m")?,
            retry: RetryPolicy {
                first_delay: duration(get, "NOTIFICATION_RETRY_FIRST_DELAY", "30s")?,
                max_delay: duration(get, "NOTIFICATION_RETRY_MAX_DELAY", "1h")?,
                max_attempts,
            },
            worker_in_serve: parse(get, "WORKER_IN_SERVE", true)?,
        })
    }
}
