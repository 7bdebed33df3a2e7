//! `twin net run`: a standalone network run writes statistics, probes and a
//! pcap trace that tshark reads.

use std::{collections::BTreeSet, fs, path::Path, process::Command};

use super::{twin, write};

/// Four nodes 200 m apart on a line (≈ 300 m range), AODV, one CBR flow
/// end to end, ARP on, two probes.
const LINE: &str = r#"
[simulation]
name = "line4"
duration = "6s"
seed = 3

[radios.wifi]
standard = "802.11b"
rate_mbps = 11.0
tx_power_dbm = 7.5

[mac.arp]
enabled = true

[routing]
protocol = "aodv"

[[nodes]]
name = "n"
count = 4
mobility = { model = "line", start = [0, 0, 0], spacing = [200, 0, 0] }

[[flows]]
src = "n0"
dst = "n3"
rate = 10.0
size = 512
start = "1s"

[[probes]]
kind = "links"
every = "500ms"

[[probes]]
kind = "flows"
every = "1s"
"#;

/// Runs tshark on `file` with `args`; panics with a clear message if tshark
/// is missing (scripts/install-tshark installs it).
fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("tshark not runnable ({e}); install it with scripts/install-tshark")
        });
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn net_run_writes_stats_probes_and_a_pcap_tshark_reads() {
    let d = tempfile::tempdir().unwrap();
    let sc = write(d.path(), "line4.toml", LINE);
    let (code, stdout, stderr) = twin(
        d.path(),
        &[
            "net", "run", &sc, "--pcap", "cap", "--out", "res", "--quiet",
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("scenario `line4`: 4 nodes, 6.0 s simulated"),
        "{stdout}"
    );

    let stats: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.path().join("res/stats.json")).unwrap())
            .unwrap();
    let rx = stats["flows"][0]["rx_packets"].as_u64().unwrap();
    let tx = stats["flows"][0]["tx_packets"].as_u64().unwrap();
    assert_eq!(tx, 50, "{stats}");
    assert!(rx >= 40, "{stats}");
    // Every packet accounted for, in the file and in the summary.
    let acc = &stats["accounting"];
    assert_eq!(acc["balanced"], true, "{acc}");
    assert_eq!(acc["delivered"].as_u64(), Some(rx), "{acc}");
    let line = format!("packets: sent 50 = delivered {rx} + dropped ");
    assert!(stdout.contains(&line), "{stdout}");
    assert!(fs::read_to_string(d.path().join("res/flows.csv"))
        .unwrap()
        .starts_with("flow,src,dst,"));
    let links = fs::read_to_string(d.path().join("res/link-durations.csv")).unwrap();
    assert_eq!(links.lines().count(), 1 + 3, "{links}"); // three static links, censored
    let probe = fs::read_to_string(d.path().join("res/probe-flows.csv")).unwrap();
    assert_eq!(probe.lines().count(), 1 + 7, "{probe}"); // samples at 0..=6 s

    // The destination's capture: every data packet it received, by IP id.
    let cap = d.path().join("cap/n3.pcap");
    let ids = tshark(
        &cap,
        &[
            "-Y",
            "udp.dstport == 9 && wlan.da == 00:00:00:00:00:04 && ip.dst == 10.1.0.4",
            "-T",
            "fields",
            "-e",
            "ip.id",
        ],
    );
    let distinct: BTreeSet<&str> = ids.lines().collect();
    assert_eq!(distinct.len() as u64, rx, "ip ids at n3:\n{ids}");
    // The source's capture has the whole protocol mix, nothing malformed.
    let src = d.path().join("cap/n0.pcap");
    let phs = tshark(&src, &["-q", "-z", "io,phs"]);
    for proto in ["radiotap", "wlan", "arp", "aodv", "udp"] {
        assert!(phs.contains(proto), "{proto} missing:\n{phs}");
    }
    assert!(!phs.contains("malformed"), "{phs}");
    // Route discovery happened on the air: n0's RREQ and n3's RREP.
    let aodv = tshark(&src, &["-Y", "aodv", "-T", "fields", "-e", "aodv.type"]);
    let types: BTreeSet<&str> = aodv.lines().collect();
    assert!(types.contains("1") && types.contains("2"), "{aodv}");
}

#[test]
fn net_run_reports_bad_scenarios_with_location() {
    let d = tempfile::tempdir().unwrap();
    let bad = LINE.replace("rate = 10.0", "rate = -1.0");
    let sc = write(d.path(), "bad.toml", &bad);
    let (code, _, stderr) = twin(d.path(), &["net", "run", &sc]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.toml:"), "{stderr}");
    assert!(stderr.contains("flows[0].rate"), "{stderr}");
}
