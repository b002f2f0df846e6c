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
            },
            Contact {
                name: "Bob Lee".into(),
                phone: "+15555550102".into(),
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
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("center.db");
        let store: Db = std::sync::Arc::new(SqliteStore::open(&db).await.unwrap());
        store.put_accounts(accounts).await.unwrap();
        let auth = Auth::new(store.clone());
        for (name, role) in users {
            auth.add_user(name, *role, PASSWORD, now()).await.unwrap();
        }
        let server = serve(&db.display().to_string(), http, settings, console).await;
        let base = server
            .http_addr
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        Center {
            server,
            store,
            auth,
            base,
            dir,
        }
    }

    /// Stops the center and starts it again on the same database (new ports).
    pub async fn restart(self) -> Center {
        let http = self.server.http_addr.is_some();
        self.server.stop().await.unwrap();
        let db = self.dir.path().join("center.db").display().to_string();
        let server = serve(&db, http, Settings::default(), Default::default()).await;
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
) -> Server {
    Server::start(Config {
        node: watchpost_server::NodeConfig::new("test", db),
        db: db.to_string(),
        dc09: "127.0.0.1:0".parse().unwrap(),
        http: http.then(|| "127.0.0.1:0".parse().unwrap()),
        window: Window::default(),
        settings,
        timezone: chrono_tz::Tz::UTC,
        recordings: watchpost_server::RecordingsConfig::beside(db),
        region: watchpost_server::phone::Region::US,
        resolution_codes: Default::default(),
        console,
        login: Default::default(),
    })
    .await
    .unwrap()
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
