//! Sending mail: SMTP through lettre, or `.eml` files when no server is configured (so the
//! one-command start still shows what would be sent). Bodies come from the templates in
//! `templates/email`, multipart text + HTML; the HTML part escapes every value.

use std::time::Duration;

use anyhow::Context as _;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::{MailTransport, NotificationSettings};
use crate::domain::notify::content::{header_safe, Content, Recipient};

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Renders and sends notification mail.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    support_email: String,
    templates: std::sync::Arc<minijinja::Environment<'static>>,
}

#[derive(Serialize)]
struct View<'a> {
    /// None: the mail greets no one by name.
    recipient_name: Option<&'a str>,
    content: &'a Content,
    support_email: &'a str,
}

impl Mailer {
    pub fn new(settings: &NotificationSettings) -> anyhow::Result<Self> {
        let transport = match &settings.transport {
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("SMTP_URL is not a usable SMTP URL")?
                    .timeout(Some(Duration::from_secs(15)))
                    .build(),
            ),
            MailTransport::Files(dir) => {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the mail directory {}", dir.display())
                })?;
                tracing::info!(dir = %dir.display(), "no SMTP_URL: mail is written as .eml files here");
                Transport::Files(AsyncFileTransport::new(dir))
            }
        };
        Ok(Mailer {
            transport,
            from: settings.mail_from.parse().context("MAIL_FROM")?,
            support_email: settings.support_email.clone(),
            templates: std::sync::Arc::new(templates()?),
        })
    }

    /// Builds the mail for `recipient`, greeted by name when `greet`. `message_id` names the event
    /// (and batch), so a receiver that gets a retried mail twice can tell.
    pub fn compose(
        &self,
        recipient: &Recipient,
        greet: bool,
        content: &Content,
        message_id: &str,
    ) -> anyhow::Result<Message> {
        let name = header_safe(&recipient.display_name);
        let shown = greet.then_some(name.as_str());
        let to = Mailbox::new(
            shown.map(str::to_owned),
            recipient.email.parse().context("recipient address")?,
        );
        let (text, html) = self.render(shown, content)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(header_safe(&content.subject))
            .message_id(Some(format!("<{message_id}@createspace>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            )?;
        Ok(message)
    }

    /// The text and HTML bodies.
    fn render(
        &self,
        recipient_name: Option<&str>,
        content: &Content,
    ) -> anyhow::Result<(String, String)> {
        let view = View {
            recipient_name,
            content,
            support_email: &self.support_email,
        };
        let text = self
            .templates
            .get_template("notification.txt")?
            .render(&view)?;
        let html = self
            .templates
            .get_template("notification.html")?
            .render(&view)?;
        Ok((text, html))
    }

    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).context("SMTP"),
            Transport::Files(t) => t
                .send(message)
                .await
                .map(|_| ())
                .context("writing the .eml file"),
        }
    }
}

/// The templates, compiled into the binary from `templates/email`; `.html` ones autoescape.
fn templates() -> anyhow::Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    env.add_template(
        "notification.txt",
        include_str!("../templates/email/notification.txt"),
    )?;
    env.add_template(
        "notification.html",
        include_str!("../templates/email/notification.html"),
    )?;
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::UserId;
    use crate::domain::notify::content::{Detail, Quote};

    fn mailer() -> Mailer {
        let dir = std::env::temp_dir().join("createspace-mail-unit");
        let settings = NotificationSettings {
            transport: MailTransport::Files(dir),
            mail_from: "CreateSpace <no-reply@example.com>".into(),
            public_base_url: "http://app.example".into(),
            support_email: "help@example.com".into(),
            require_email_verification: false,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            retry: crate::domain::notify::RetryPolicy {
                first_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(2),
                max_attempts: 2,
            },
            worker_in_serve: true,
        };
        Mailer::new(&settings).unwrap()
    }

    #[test]
    fn user_text_is_escaped_in_html_and_kept_off_the_headers() {
        let content = Content {
            subject: "Logo <b>\r\nBcc: victim@example.com".into(),
            lead: "Hi <script>alert(1)</script>".into(),
            details: vec![Detail {
                label: "Order",
                value: "<img src=x>".into(),
            }],
            quotes: vec![Quote {
                author: "Eve".into(),
                text: "a & b".into(),
            }],
            action_label: "View",
            action_url: "http://app.example/orders/1".into(),
        };
        let recipient = Recipient {
            id: UserId::new(),
            email: "ada@example.com".into(),
            display_name: "Ada\r\nBcc: x@example.com".into(),
            time_zone: "UTC".into(),
        };
        let mailer = mailer();
        let mail = mailer.compose(&recipient, true, &content, "e1.r1").unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc:")), "{head}");
        assert!(
            head.contains("Subject: Logo <b> Bcc: victim@example.com\r\n"),
            "{head}"
        );
        let (text, html) = mailer.render(Some("Ada"), &content).unwrap();
        assert!(
            text.contains("Hi <script>alert(1)</script>"),
            "plain text stays as written"
        );
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;") && html.contains("a &amp; b"),
            "{html}"
        );
        assert!(html.contains("help@example.com"), "the support footer");
    }
}
