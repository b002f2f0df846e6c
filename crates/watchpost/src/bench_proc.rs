//! What the benches read from Linux's /proc: a process's CPU time and resident memory, and the
//! host's UDP counters, each as a snapshot taken before, during or after the measured window.

use anyhow::Context;
use std::collections::HashMap;
use std::time::Duration;

/// Linux reports utime and stime in USER_HZ ticks, fixed at 100 per second by its ABI
/// (proc(5), /proc/pid/stat).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system CPU time of process `pid` (`None`: this process) so far, from
/// /proc/<pid>/stat fields 14 and 15 (proc(5)). Errors: no such process, or a file that
/// does not read as proc(5) says.
pub fn cpu_time(pid: Option<u32>) -> anyhow::Result<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".into(),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_cpu_time(&text).with_context(|| format!("{path}: utime and stime not found"))
}

fn parse_cpu_time(stat: &str) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

/// Resident memory of process `pid` now, in bytes: `VmRSS` of /proc/<pid>/status (proc(5)).
/// Errors: no such process, or no `VmRSS` line (a kernel thread, a zombie).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_rss(&text).with_context(|| format!("{path}: no VmRSS line"))
}

fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next()? == "kB").then_some(kib * 1024)
}

/// The host's UDP counters (`Udp:` of /proc/net/snmp, RFC 4113 names: `InDatagrams`,
/// `InErrors`, `RcvbufErrors`, ...). Errors: the file is missing or unreadable.
pub fn udp_counters() -> anyhow::Result<HashMap<String, u64>> {
    let text = std::fs::read_to_string("/proc/net/snmp").context("reading /proc/net/snmp")?;
    parse_udp(&text).context("/proc/net/snmp has no Udp: lines")
}

fn parse_udp(snmp: &str) -> Option<HashMap<String, u64>> {
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names = lines.next()?.split_whitespace().skip(1);
    let values = lines.next()?.split_whitespace().skip(1);
    Some(
        names
            .zip(values)
            .filter_map(|(n, v)| Some((n.to_string(), v.parse().ok()?)))
            .collect(),
    )
}

/// Datagrams dropped so far at each open IPv4 UDP socket of the host, by local port: the
/// last column (`drops`) of /proc/net/udp (a receive buffer that was full). Errors: the file
/// is missing or unreadable.
pub fn udp_drops() -> anyhow::Result<Vec<(u16, u64)>> {
    let text = std::fs::read_to_string("/proc/net/udp").context("reading /proc/net/udp")?;
    Ok(parse_drops(&text))
}

fn parse_drops(table: &str) -> Vec<(u16, u64)> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (_, port) = fields.get(1)?.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            Some((port, fields.last()?.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_a_command_with_spaces() {
        let stat = "4242 (sipp (x) y) S 1 4242 4242 0 -1 4194560 812 0 0 0 250 37 0 0 20 0 12 0";
        assert_eq!(parse_cpu_time(stat), Some(Duration::from_millis(2870)));
        assert_eq!(parse_cpu_time("4242 (short) S 1"), None);
    }

    #[test]
    fn rss_is_read_in_kib_from_the_status_file() {
        let status = "Name:\tserve\nVmPeak:\t  99 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(parse_rss(status), Some(12_345 * 1024));
        assert_eq!(parse_rss("Name:\tkthreadd\n"), None);
        assert!(rss_bytes(std::process::id()).expect("this process") > 0);
    }

    #[test]
    fn udp_counters_pair_names_with_values() {
        let snmp = "Ip: Forwarding\nIp: 1\nUdp: InDatagrams NoPorts InErrors\nUdp: 64 3 1\n\
                    UdpLite: InDatagrams\nUdpLite: 0\n";
        let udp = parse_udp(snmp).expect("parsed");
        assert_eq!(udp["InDatagrams"], 64);
        assert_eq!(udp["InErrors"], 1);
        assert_eq!(udp.len(), 3);
    }

    #[test]
    fn drops_are_read_by_local_port() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
            \x20 12: 0100007F:8CA0 00000000:0000 07 00000000:00005700 00:00000000 00000000     0        0 123 2 0000000000000000 41\n\
            \x20 13: 0100007F:8CA2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 124 2 0000000000000000 0\n";
        assert_eq!(parse_drops(table), vec![(36_000, 41), (36_002, 0)]);
    }

    #[test]
    fn this_process_has_a_cpu_time_and_a_dead_one_has_none() {
        assert!(cpu_time(None).is_ok());
        assert!(cpu_time(Some(u32::MAX)).is_err());
    }
}
