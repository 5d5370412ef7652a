//! A real SMTP server inside the test process (mailin-embedded) on a loopback port, and what it
//! received, parsed as MIME.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

/// One mail as the server received it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    /// Every header, name and decoded value.
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
}

#[derive(Clone)]
struct Collect {
    to: Vec<String>,
    data: Vec<u8>,
    inbox: Arc<Mutex<Vec<Mail>>>,
}

impl Handler for Collect {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let parsed = mailparse::parse_mail(&self.data).expect("the mail parses as MIME");
        let header = |name: &str| {
            use mailparse::MailHeaderMap;
            parsed.headers.get_first_value(name).unwrap_or_default()
        };
        let part = |mime: &str| {
            parsed
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .map(|p| p.get_body().expect("the part decodes"))
                .unwrap_or_default()
        };
        let mail = Mail {
            to: self.to.clone(),
            subject: header("Subject"),
            message_id: header("Message-ID"),
            headers: parsed
                .headers
                .iter()
                .map(|h| (h.get_key(), h.get_value()))
                .collect(),
            text: part("text/plain"),
            html: part("text/html"),
        };
        self.inbox.lock().unwrap().push(mail);
        response::OK
    }
}

pub struct Smtp {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Mail>>>,
}

impl Smtp {
    /// A server on a free loopback port.
    pub fn start() -> Smtp {
        Self::start_on(free_port())
    }

    /// A server on `port` (one picked by [`free_port`] earlier, while nothing listened there).
    pub fn start_on(port: u16) -> Smtp {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the SMTP port is free");
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let handler = Collect {
            to: Vec::new(),
            data: Vec::new(),
            inbox: inbox.clone(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Smtp { port, inbox }
    }

    pub fn url(port: u16) -> String {
        format!("smtp://127.0.0.1:{port}")
    }

    /// What arrived, but the verification mail every registration sends (see [`Smtp::all`]).
    pub fn received(&self) -> Vec<Mail> {
        self.all()
            .into_iter()
            .filter(|m| m.subject != "Confirm your email address")
            .collect()
    }

    pub fn all(&self) -> Vec<Mail> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until at least `n` mails are [`Smtp::received`], failing after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let mails = self.received();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                start.elapsed() < within,
                "{} of {n} mails after {within:?}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A loopback port nothing listens on (bound and released at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
