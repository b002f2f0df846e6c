//! What the server's tests share: a residential account with two contacts, and a live center
//! on loopback ports with its store and auth at hand.
#![allow(dead_code)]

use watchpost_core::Settings;
use watchpost_core::account::{
    Account, Contact, DAY_MS, DeviceType, Monitoring, Premises, Responder, Zone,
};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_server::auth::Auth;
use watchpost_server::{Config, Server};
use watchpost_store::{Db, Role, SqliteStore};
use watchpost_wire::Window;

pub const VERBAL: &str = "blue falcon";
pub const PASSWORD: &str = "correct horse battery";

/// Account 4F39: Ann Lee then Bob Lee, a door contact on zone 1 and a motion sensor on zone 3,
/// professional for a month.
pub fn account() -> Account {
    Account {
        number: "4F39".into(),
        premises: Premises::Residential,
        address: "12 Elm St, Springfield, IL 62701".into(),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at: chrono::Utc::now().timestamp_millis() - 30 * DAY_MS,
        verbal_password: VerbalPassword::hash(VERBAL, HashCost::Fast),
        responder: Responder::Police,
        test_until: None,
        contacts: vec![
            Contact {
                name: "Ann Lee".into(),
                phone: "+15555550101".into(),
                phone2: None,
            },
            Contact {
                name: "Bob Lee".into(),
                phone: "+15555550102".into(),
                phone2: None,
            },
        ],
        zones: vec![
            Zone {
                zone: 1,
                device: DeviceType::Contact,
            },
            Zone {
                zone: 3,
                device: DeviceType::Motion,
            },
        ],
        dc09_key: None,
        supervision_ms: None,
        details: Default::default(),
        dealer: None,
        premises_phone: None,
    }
}

/// A live center on a temporary database, with HTTP if asked for.
pub struct Center {
    pub server: Server,
    pub store: Db,
    pub auth: Auth,
    /// `http://127.0.0.1:PORT` when HTTP listens.
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The master key the center seals DC-09 keys with (`test_master_key` unless a test
    /// gives another, or none).
    pub secrets: watchpost_server::SecretsConfig,
}

/// The master key test centers run with: DC-09 keys in their databases are sealed with it.
pub fn test_master_key() -> watchpost_server::SecretsConfig {
    watchpost_server::SecretsConfig {
        master_key: Some(std::sync::Arc::new(
            watchpost_server::secrets::MasterKey::from_bytes([0x42; 32]),
        )),
    }
}

impl Center {
    /// Enrols `accounts` and the users (`PASSWORD` for all), then starts the center.
    pub async fn start(accounts: &[Account], users: &[(&str, Role)], http: bool) -> Center {
        Center::start_with(accounts, users, http, Settings::default()).await
    }

    /// `start` with these center settings.
    pub async fn start_with(
        accounts: &[Account],
        users: &[(&str, Role)],
        http: bool,
        settings: Settings,
    ) -> Center {
        Center::start_console(accounts, users, http, settings, Default::default()).await
    }

    /// `start_with` these console attention thresholds too.
    pub async fn start_console(
        accounts: &[Account],
        users: &[(&str, Role)],
        http: bool,
        settings: Settings,
        console: watchpost_server::ConsoleConfig,
    ) -> Center {
        Center::try_start(accounts, users, http, settings, console, test_master_key())
            .await
            .unwrap()
    }

    /// `start_console` with these secrets; the server's refusal to start, if it refuses.
    pub async fn try_start(
        accounts: &[Account],
        users: &[(&str, Role)],
        http: bool,
        settings: Settings,
        console: watchpost_server::ConsoleConfig,
        secrets: watchpost_server::SecretsConfig,
    ) -> Result<Center, watchpost_server::ServerError> {
        let listen = Default::default();
        Center::start_full(accounts, users, http, settings, console, secrets, listen).await
    }

    /// `start` (with HTTP) under these listener caps, timeouts and TLS; `base` is
    /// `https://` when TLS is on.
    pub async fn start_listening(
        accounts: &[Account],
        users: &[(&str, Role)],
        listen: watchpost_server::ListenConfig,
    ) -> Center {
        let tls = listen.http.tls.is_some();
        let mut center = Center::start_full(
            accounts,
            users,
            true,
            Settings::default(),
            Default::default(),
            test_master_key(),
            listen,
        )
        .await
        .unwrap();
        if tls {
            center.base = center.base.replacen("http://", "https://", 1);
        }
        center
    }

    async fn start_full(
        accounts: &[Account],
        users: &[(&str, Role)],
        http: bool,
        settings: Settings,
        console: watchpost_server::ConsoleConfig,
        secrets: watchpost_server::SecretsConfig,
        listen: watchpost_server::ListenConfig,
    ) -> Result<Center, watchpost_server::ServerError> {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("center.db");
        let store: Db = std::sync::Arc::new(SqliteStore::open(&db).await.unwrap());
        store.put_accounts(accounts).await.unwrap();
        let auth = Auth::new(store.clone());
        for (name, role) in users {
            auth.add_user(name, *role, PASSWORD, now()).await.unwrap();
        }
        let server = serve(
            &db.display().to_string(),
            http,
            settings,
            console,
            secrets.clone(),
            listen,
        )
        .await?;
        let base = server
            .http_addr
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        Ok(Center {
            server,
            store,
            auth,
            base,
            dir,
            secrets,
        })
    }

    /// Stops the center and starts it again on the same database (new ports).
    pub async fn restart(self) -> Center {
        let http = self.server.http_addr.is_some();
        self.server.stop().await.unwrap();
        let db = self.dir.path().join("center.db").display().to_string();
        let server = serve(
            &db,
            http,
            Settings::default(),
            Default::default(),
            self.secrets.clone(),
            Default::default(),
        )
        .await
        .unwrap();
        Center {
            base: server
                .http_addr
                .map(|a| format!("http://{a}"))
                .unwrap_or_default(),
            store: server.store.clone(),
            server,
            ..self
        }
    }

    pub async fn api_key(&self, account: &str) -> String {
        self.auth
            .issue_api_key(account, "test", now())
            .await
            .unwrap()
    }
}

async fn serve(
    db: &str,
    http: bool,
    settings: Settings,
    console: watchpost_server::ConsoleConfig,
    secrets: watchpost_server::SecretsConfig,
    listen: watchpost_server::ListenConfig,
) -> Result<Server, watchpost_server::ServerError> {
    Server::start(Config {
        http: http.then(|| "127.0.0.1:0".parse().unwrap()),
        settings,
        console,
        secrets,
        listen,
        ..config(db)
    })
    .await
}

/// A node named `test` on `db` with every default: loopback, ports the system chooses, no
/// HTTP, the tests' master key. Tests change what they test with `Config { .., ..config(db) }`.
pub fn config(db: &str) -> Config {
    Config {
        node: watchpost_server::NodeConfig::new("test", db),
        db: db.to_string(),
        dc09: "127.0.0.1:0".parse().unwrap(),
        http: None,
        window: Window::default(),
        settings: Settings::default(),
        timezone: chrono_tz::Tz::UTC,
        recordings: watchpost_server::RecordingsConfig::beside(db),
        retention: Default::default(),
        region: watchpost_server::phone::Region::US,
        resolution_codes: Default::default(),
        limits: Default::default(),
        console: Default::default(),
        secrets: test_master_key(),
        listen: Default::default(),
        login: Default::default(),
        webhooks: Default::default(),
        metrics_token: None,
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Signs `name` in (with `PASSWORD`) over HTTP; returns the session token.
pub async fn sign_in(client: &reqwest::Client, base: &str, name: &str) -> String {
    let login: serde_json::Value = client
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"name": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} could not sign in: {login}"))
        .to_string()
}

/// The console's CSRF token for the session `token`, read from a console page as a browser
/// sees it (`<meta name="csrf-token">`): console forms that change something must carry it.
pub async fn csrf_token(client: &reqwest::Client, base: &str, token: &str) -> String {
    let page = client
        .get(format!("{base}/console"))
        .header("cookie", format!("wp_session={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF token on the console page: {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

/// The JSON API as one signed-in user (`token` is a session or an API key).
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}

/// A plain (unencrypted) SIA-DCS DC-09 frame from `account` with event data `event`
/// (`"NBA1"`, `"Nri1/BA01"`), stamped now.
pub fn sia_frame(account: &str, sequence: u16, event: &str) -> Vec<u8> {
    use watchpost_wire::{CrcForm, FixedPad, Frame, Header, MessageId, encode_frame};
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: false,
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some(account.into()),
        },
        data: format!("#{account}|{event}"),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, None, &mut FixedPad(b'7')).unwrap()
}

/// Sends one frame over `tcp` and returns the id of its reply (within 30 s).
pub async fn exchange(tcp: &mut tokio::net::TcpStream, bytes: &[u8]) -> watchpost_wire::MessageId {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use watchpost_wire::{Chunk, FrameSplitter, parse_frame};
    tcp.write_all(bytes).await.unwrap();
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 1024];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), tcp.read(&mut buffer))
            .await
            .expect("a reply in time")
            .unwrap();
        assert!(n > 0, "the receiver closed the connection");
        if let Some(Chunk::Frame(reply)) = splitter.push(&buffer[..n]).into_iter().next() {
            return parse_frame(&reply, None).unwrap().header.id;
        }
    }
}
