//! `@ipMatch` and `@ipMatchFromFile` (alias `@ipMatchF`): the value is an IP address inside
//! one of the listed networks.
//!
//! The list holds IPv4 and IPv6 addresses, with an optional `/bits` prefix length, separated
//! by commas (`@ipMatch`) or one per line (`@ipMatchFromFile`, `#` comments). As in
//! libmodsecurity (`src/utils/ip_tree.cc`, separate v4 and v6 trees), an IPv4 value only
//! matches IPv4 entries and an IPv6 value only IPv6 entries; the host bits of an entry are
//! ignored (`10.10.10.0/21` is `10.10.8.0/21`). An entry that does not parse, or a prefix
//! length out of range (`/33` for IPv4), is a configuration error — libmodsecurity refuses
//! it too. A value that is not an address does not match. Addresses are parsed with the
//! standard library (`inet_pton` rules, including `::ffff:1.2.3.4` forms). Not here:
//! remote (`https://`) lists.

use std::net::IpAddr;

use super::{data_file_lines, read_data_files, DataFiles, OpOutput, Operator};

/// A compiled network list.
#[derive(Debug, Default)]
pub struct IpMatch {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpMatch {
    /// Compiles `@ipMatch` with a comma-separated list.
    pub fn new(param: &str) -> Result<Self, String> {
        let mut m = Self::default();
        for entry in param.split(',') {
            m.add("ipMatch", entry)?;
        }
        m.check_non_empty("ipMatch")?;
        Ok(m)
    }

    /// Compiles `@ipMatchFromFile` with space-separated file names read from `files`.
    pub fn from_files(param: &str, files: &dyn DataFiles) -> Result<Self, String> {
        let mut m = Self::default();
        for content in read_data_files("ipMatchFromFile", param, files)? {
            for line in data_file_lines(&content) {
                let line = std::str::from_utf8(line)
                    .map_err(|_| "@ipMatchFromFile: a line is not valid UTF-8".to_string())?;
                m.add("ipMatchFromFile", line)?;
            }
        }
        m.check_non_empty("ipMatchFromFile")?;
        Ok(m)
    }

    fn check_non_empty(&self, op: &str) -> Result<(), String> {
        if self.v4.is_empty() && self.v6.is_empty() {
            return Err(format!("@{op}: no address given"));
        }
        Ok(())
    }

    fn add(&mut self, op: &str, entry: &str) -> Result<(), String> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Ok(());
        }
        let (addr, bits) = match entry.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (entry, None),
        };
        let bad = || format!("@{op}: invalid address or network {entry:?}");
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits: u32 = match bits {
            Some(b) => b.parse().ok().filter(|&b| b <= max).ok_or_else(bad)?,
            None => max,
        };
        match ip {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                self.v4.push((u32::from(a) & mask, mask));
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                self.v6.push((u128::from(a) & mask, mask));
            }
        }
        Ok(())
    }
}

impl Operator for IpMatch {
    fn matches(&self, input: &[u8], _out: &mut OpOutput) -> bool {
        let Some(ip) = std::str::from_utf8(input)
            .ok()
            .and_then(|s| s.parse::<IpAddr>().ok())
        else {
            return false;
        };
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|&(net, mask)| a & mask == net)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|&(net, mask)| a & mask == net)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_prefixes() {
        let m = IpMatch::new("10.10.10.0/21, ::1,192.168.0.1").unwrap();
        let mut out = OpOutput::default();
        assert!(m.matches(b"10.10.15.254", &mut out));
        assert!(!m.matches(b"10.10.16.1", &mut out));
        assert!(m.matches(b"::1", &mut out));
        assert!(m.matches(b"192.168.0.1", &mut out));
        assert!(!m.matches(b"not an ip", &mut out));
        assert!(IpMatch::new("0.0.0.0/0")
            .unwrap()
            .matches(b"1.2.3.4", &mut out));
        assert!(IpMatch::new("10.0.0.0/33").is_err());
        assert!(IpMatch::new("").is_err());
    }
}
