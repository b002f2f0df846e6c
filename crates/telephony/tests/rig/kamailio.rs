//! kamailio as a trunk and registrar with digest auth, from tests/peers/kamailio.cfg
//! (TELEPHONY.md §5.5).

use std::process::Command;
use std::time::Duration;

use super::peer::Peer;
use super::peers_dir;

/// kamailio on UDP 127.0.0.1:`port`. It challenges REGISTER with 401 and INVITEs from `users`
/// (name, password) with 407 (RFC 3261 §22), saves registrations in memory, Record-Routes
/// INVITEs and relays them to the registered contact of the Request-URI user; INVITEs to users
/// not registered go on to `onward` (`host:port`, the Request-URI's user kept), or get 404 when
/// it is `None`. INVITEs from other users are relayed without a challenge. Returns once it
/// listens; panics (printing its log) when it fails to start within 5 s or `onward` is not
/// host:port.
pub fn kamailio(port: u16, users: &[(&str, &str)], onward: Option<&str>) -> Peer {
    let dir = tempfile::Builder::new()
        .prefix("rig-kamailio-")
        .tempdir()
        .expect("rig: temp dir");
    let template =
        std::fs::read_to_string(peers_dir().join("kamailio.cfg")).expect("rig: read kamailio.cfg");
    let users: String = users
        .iter()
        .map(|(name, password)| format!("\t$sht(users=>{name}) = \"{password}\";\n"))
        .collect();
    let (enabled, host, onward_port) = match onward {
        None => ("0", "127.0.0.1", "0"),
        Some(hostport) => {
            let (host, port) = hostport
                .rsplit_once(':')
                .filter(|(_, port)| port.parse::<u16>().is_ok())
                .unwrap_or_else(|| {
                    panic!("rig: kamailio onward must be host:port, got {hostport:?}")
                });
            ("1", host, port)
        }
    };
    let config = template
        .replace("@PORT@", &port.to_string())
        .replace("@RUNDIR@", &dir.path().display().to_string())
        .replace("@USERS@", users.trim_end())
        .replace("@ONWARD_HOST@", host)
        .replace("@ONWARD_PORT@", onward_port)
        .replace("@ONWARD@", enabled);
    let cfg = dir.path().join("kamailio.cfg");
    std::fs::write(&cfg, config).expect("rig: write kamailio.cfg");
    // kamailio refuses to start when its pid file names a live process (TELEPHONY.md §5.5).
    let pid = dir.path().join("kamailio.pid");
    let _ = std::fs::remove_file(&pid);
    let mut command = Command::new("kamailio");
    command
        .args(["-DD", "-E", "-f"])
        .arg(&cfg)
        .arg("-P")
        .arg(&pid);
    let peer = Peer::spawn("kamailio", command, dir);
    if !peer.wait_log("Listening on", Duration::from_secs(5)) {
        panic!("rig: kamailio did not start on {port}:\n{}", peer.log());
    }
    // The workers bind after the main process prints its listeners.
    std::thread::sleep(Duration::from_millis(300));
    peer
}
