//! IP address ranges, and which addresses a webhook may reach. Pure: the resolver and the HTTP
//! client apply these rules to the addresses they find and connect to.

use std::net::{IpAddr, Ipv4Addr};

/// An address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), self.prefix, 32)
                    == masked(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is that IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
    }
}

/// Ranges no webhook may reach unless `WEBHOOK_ALLOWED_CIDRS` lets it: this machine, private
/// networks, link-local (cloud metadata at 169.254.169.254 included), CGNAT, and every range that
/// is not a unicast address on the public internet.
const FORBIDDEN: [&str; 26] = [
    "0.0.0.0/8",       // "this network"
    "10.0.0.0/8",      // private
    "100.64.0.0/10",   // carrier-grade NAT
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local, cloud metadata
    "172.16.0.0/12",   // private
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation
    "192.88.99.0/24",  // 6to4 relay anycast
    "192.168.0.0/16",  // private
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation
    "203.0.113.0/24",  // documentation
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, broadcast
    "::/128",          // unspecified
    "::1/128",         // loopback
    "64:ff9b:1::/48",  // local-use NAT64
    "100::/64",        // discard
    "2001::/23",       // IETF protocol assignments, Teredo (2001::/32) included
    "::ffff:0:0:0/96", // SIIT IPv4-translated
    "2001:db8::/32",   // documentation
    "fc00::/7",        // unique local
    "fe80::/10",       // link-local
    "fec0::/10",       // site-local (deprecated, still routed by some stacks)
    "ff00::/8",        // multicast
];

/// Where webhooks may be delivered: public unicast addresses, plus the configured exceptions.
#[derive(Clone, Debug, Default)]
pub struct Destinations {
    /// `WEBHOOK_ALLOWED_CIDRS`: empty in production; tests allow `127.0.0.0/8` for receivers.
    pub allowed: Vec<IpNet>,
}

impl Destinations {
    /// Whether a webhook may connect to `ip`. Addresses that carry an IPv4 address inside an IPv6
    /// one (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
    /// `2002:ab:cd::`) are judged by the IPv4 address they lead to.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = embedded_v4(ip).map_or(ip, IpAddr::V4);
        if self.allowed.iter().any(|net| net.contains(ip)) {
            return true;
        }
        !FORBIDDEN
            .iter()
            .filter_map(|n| IpNet::parse(n))
            .any(|net| net.contains(ip))
    }
}

/// The IPv4 address an IPv6 address stands for, if it is one of the forms that embed one.
fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else {
        return None;
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // Deprecated IPv4-compatible `::a.b.c.d` (but not `::` and `::1`, judged as IPv6).
        [0, 0, 0, 0, 0, 0, _, _] if u128::from(v6) > 1 => Some(low),
        // NAT64 well-known prefix.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        // 6to4: the IPv4 address is in the second and third segments.
        [0x2002, a, b, ..] => Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        let none = Destinations::default();
        for bad in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "169.254.169.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "ff02::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::ffff:0:7f00:1",
        ] {
            assert!(!none.permits(ip(bad)), "{bad} should be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        let none = Destinations::default();
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(none.permits(ip(good)), "{good} should be allowed");
        }
    }

    #[test]
    fn allowed_ranges_open_exactly_what_they_name() {
        let tests = Destinations {
            allowed: vec![IpNet::parse("127.0.0.0/8").unwrap()],
        };
        assert!(tests.permits(ip("127.0.0.1")));
        assert!(tests.permits(ip("::ffff:127.0.0.1")));
        assert!(!tests.permits(ip("::1")));
        assert!(!tests.permits(ip("10.0.0.1")));
        assert!(!tests.permits(ip("169.254.169.254")));
    }

    #[test]
    fn every_forbidden_range_parses() {
        for net in FORBIDDEN {
            assert!(IpNet::parse(net).is_some(), "{net}");
        }
    }
}
