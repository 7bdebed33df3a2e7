//! Where a DDS bus connects: domain, network interface, unicast peers.

use std::collections::BTreeMap;

/// DDS connection settings.
///
/// Defaults: domain 0, Cyclone's own choice of interface (or whatever
/// `CYCLONEDDS_URI` says), multicast discovery. Set `interface` to pin a
/// network interface and `peers` for networks without multicast (discovery
/// then goes to these unicast addresses).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DdsConfig {
    /// DDS domain id (0–232); members meet only within one domain.
    pub domain: u32,
    /// Network interface name or address (`lo`, `eth0`, `10.0.0.5`).
    pub interface: Option<String>,
    /// Unicast peers (`host` or `host:port`); non-empty disables multicast.
    pub peers: Vec<String>,
    /// How long (µs) a waiting federation thread busy-polls after the last
    /// data arrival before it blocks ([`crate::Bus::idle_spin`]); `None`:
    /// [`super::DEFAULT_SPIN_US`]; 0: never spin.
    pub spin_us: Option<u32>,
    /// Holds a Linux PM QoS CPU latency request of 0 µs while the bus
    /// lives (`/dev/cpu_dma_latency`; root only): idle CPUs poll instead
    /// of halting, which on a VM spares the 50–150 µs wake-up of a halted
    /// vCPU per message, at the cost of keeping every CPU of the machine
    /// busy. Off by default.
    pub keep_awake: bool,
}

/// Largest accepted spin window, µs (0.1 s).
const MAX_SPIN_US: u32 = 100_000;

impl DdsConfig {
    /// Settings from the environment: `TWIN_DDS_DOMAIN`,
    /// `TWIN_DDS_INTERFACE`, `TWIN_DDS_PEERS` (comma-separated) and
    /// `TWIN_DDS_SPIN_US` (0–100000), `TWIN_DDS_KEEP_AWAKE` (0 or 1). Cyclone's
    /// own `CYCLONEDDS_URI` applies when neither interface nor peers is set.
    pub fn from_env() -> Result<DdsConfig, String> {
        let vars: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("TWIN_DDS_"))
            .collect();
        Self::from_vars(&vars)
    }

    fn from_vars(vars: &BTreeMap<String, String>) -> Result<DdsConfig, String> {
        let mut c = DdsConfig::default();
        if let Some(d) = vars.get("TWIN_DDS_DOMAIN") {
            c.domain = d
                .trim()
                .parse()
                .ok()
                .filter(|d| *d <= 232)
                .ok_or_else(|| format!("TWIN_DDS_DOMAIN=`{d}`: expected an integer 0..=232"))?;
        }
        if let Some(d) = vars.get("TWIN_DDS_SPIN_US") {
            c.spin_us = Some(
                d.trim()
                    .parse()
                    .ok()
                    .filter(|d| *d <= MAX_SPIN_US)
                    .ok_or_else(|| {
                        format!("TWIN_DDS_SPIN_US=`{d}`: expected microseconds 0..={MAX_SPIN_US}")
                    })?,
            );
        }
        if let Some(a) = vars.get("TWIN_DDS_KEEP_AWAKE") {
            c.keep_awake = match a.trim() {
                "1" => true,
                "0" | "" => false,
                _ => return Err(format!("TWIN_DDS_KEEP_AWAKE=`{a}`: expected 0 or 1")),
            };
        }
        c.interface = vars
            .get("TWIN_DDS_INTERFACE")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(p) = vars.get("TWIN_DDS_PEERS") {
            c.peers = p
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        for p in &c.peers {
            if p.chars().any(|ch| "<>&\"'".contains(ch)) {
                return Err(format!("TWIN_DDS_PEERS: `{p}` is not a host or host:port"));
            }
        }
        if c.interface
            .as_deref()
            .is_some_and(|i| i.chars().any(|ch| "<>&\"'".contains(ch)))
        {
            return Err("TWIN_DDS_INTERFACE: not an interface name or address".into());
        }
        Ok(c)
    }

    /// Cyclone XML for these settings, or `None` to keep Cyclone's defaults
    /// (and `CYCLONEDDS_URI`).
    pub(crate) fn cyclone_xml(&self) -> Option<String> {
        if self.interface.is_none() && self.peers.is_empty() {
            return None;
        }
        let mut x = String::from("<CycloneDDS><Domain><General>");
        if let Some(i) = &self.interface {
            let attr = if i.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                "address"
            } else {
                "name"
            };
            let mc = if self.peers.is_empty() {
                "true"
            } else {
                "false"
            };
            x.push_str(&format!(
                "<Interfaces><NetworkInterface {attr}=\"{i}\" multicast=\"{mc}\"/></Interfaces>"
            ));
        }
        if !self.peers.is_empty() {
            x.push_str("<AllowMulticast>false</AllowMulticast>");
        }
        x.push_str("</General>");
        if !self.peers.is_empty() {
            x.push_str("<Discovery><ParticipantIndex>auto</ParticipantIndex><Peers>");
            for p in &self.peers {
                x.push_str(&format!("<Peer address=\"{p}\"/>"));
            }
            x.push_str("</Peers></Discovery>");
        }
        x.push_str("</Domain></CycloneDDS>");
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_is_parsed_and_checked() {
        let c = DdsConfig::from_vars(&vars(&[
            ("TWIN_DDS_DOMAIN", "7"),
            ("TWIN_DDS_INTERFACE", "lo"),
            ("TWIN_DDS_PEERS", "10.0.0.1, host-b:7410"),
        ]))
        .unwrap();
        assert_eq!(c.domain, 7);
        let x = c.cyclone_xml().unwrap();
        assert!(
            x.contains("<NetworkInterface name=\"lo\" multicast=\"false\"/>"),
            "{x}"
        );
        assert!(x.contains("<Peer address=\"host-b:7410\"/>"), "{x}");
        assert!(x.contains("<AllowMulticast>false</AllowMulticast>"));
        let e = DdsConfig::from_vars(&vars(&[("TWIN_DDS_DOMAIN", "300")])).unwrap_err();
        assert!(e.contains("TWIN_DDS_DOMAIN=`300`"), "{e}");
        assert!(DdsConfig::from_vars(&vars(&[("TWIN_DDS_PEERS", "a\"/><x")])).is_err());
        assert_eq!(DdsConfig::default().cyclone_xml(), None);
        assert_eq!(c.spin_us, None);
        let s = DdsConfig::from_vars(&vars(&[("TWIN_DDS_SPIN_US", " 50 ")])).unwrap();
        assert_eq!(s.spin_us, Some(50));
        let a = DdsConfig::from_vars(&vars(&[("TWIN_DDS_KEEP_AWAKE", "1")])).unwrap();
        assert!(a.keep_awake && !c.keep_awake);
        let e = DdsConfig::from_vars(&vars(&[("TWIN_DDS_KEEP_AWAKE", "yes")])).unwrap_err();
        assert!(e.contains("TWIN_DDS_KEEP_AWAKE=`yes`"), "{e}");
        for bad in ["-1", "fast", "100001"] {
            let e = DdsConfig::from_vars(&vars(&[("TWIN_DDS_SPIN_US", bad)])).unwrap_err();
            assert!(e.contains(&format!("TWIN_DDS_SPIN_US=`{bad}`")), "{e}");
        }
    }
}
