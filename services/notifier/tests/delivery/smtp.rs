//! A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
//! records each message. Enough for lettre's plain-SMTP client; no TLS, no AUTH.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub recipients: Vec<String>,
    pub data: String,
}

pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    /// `rcpt_reply` is the answer to RCPT TO ("250 OK", or "550 no such user" for a refusal).
    pub async fn start(rcpt_reply: &'static str) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("address").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let stored = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, stored.clone(), rcpt_reply));
            }
        });
        SmtpServer { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }
}

async fn session(stream: TcpStream, mails: Arc<Mutex<Vec<Mail>>>, rcpt_reply: &'static str) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if !reply(&mut write, "220 localhost test SMTP").await {
        return;
    }
    let mut mail = Mail {
        from: String::new(),
        recipients: Vec::new(),
        data: String::new(),
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 localhost"
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = line[10..].trim().to_owned();
            "250 OK"
        } else if upper.starts_with("RCPT TO:") {
            if rcpt_reply.starts_with('2') {
                mail.recipients.push(line[8..].trim().to_owned());
            }
            rcpt_reply
        } else if upper == "DATA" {
            if !reply(&mut write, "354 end with <CRLF>.<CRLF>").await {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(data_line)) = lines.next_line().await {
                if data_line == "." {
                    break;
                }
                data.push_str(data_line.strip_prefix('.').unwrap_or(&data_line));
                data.push('\n');
            }
            mail.data = data;
            mails.lock().expect("lock").push(mail.clone());
            "250 queued"
        } else if upper == "QUIT" {
            let _ = reply(&mut write, "221 bye").await;
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK"
        } else {
            "502 command not implemented"
        };
        if !reply(&mut write, answer).await {
            return;
        }
    }
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    write
        .write_all(format!("{text}\r\n").as_bytes())
        .await
        .is_ok()
}
