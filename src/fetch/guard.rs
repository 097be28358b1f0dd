//! Refusing loopback and private-network addresses unless the user opts in.
//!
//! A declaration (or a redirect) pointing at `127.0.0.1` or `10.0.0.1` would turn a
//! scheduled run into a probe of the machine's own network. Names are checked after DNS
//! resolution, in the resolver, so a public name that resolves to a private address is
//! refused too; IP literals are checked before the request and at every redirect.
//! Webhook alerts go through the same checks (src/notify/send.rs): a target named by the
//! archive's `clausewatch.toml` is as untrusted as a declaration.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::failure::{Failure, FailureKind};

#[derive(Debug, thiserror::Error)]
#[error("{0} is a loopback or private-network address")]
pub(crate) struct PrivateAddressError(pub String);

/// The one switch that lets requests reach private addresses, as error messages name it.
pub(crate) const OPT_IN: &str = "pass --allow-private (or set CLAUSEWATCH_ALLOW_PRIVATE=1)";

pub(super) fn refused(target: &str) -> Failure {
    Failure::new(
        FailureKind::PrivateAddress,
        format!("{target} is a loopback or private-network address; {OPT_IN} to fetch it"),
    )
}

/// What every fetcher checks before sending anything: only http and https, and no
/// private address unless allowed.
pub(super) fn check_url(url: &Url, allow_private: bool) -> Result<(), Failure> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Failure::new(
            FailureKind::UnsupportedContent,
            format!("{url}: only http and https are fetched"),
        ));
    }
    if !allow_private && is_private_host(url) {
        return Err(refused(url.as_str()));
    }
    Ok(())
}

/// Loopback, private (RFC 1918, unique-local), link-local, unspecified, CGNAT,
/// broadcast, documentation, benchmarking, IETF-protocol (192.0.0.0/24), multicast and
/// reserved (240.0.0.0/4) ranges; and IPv6 addresses that carry an IPv4 one (mapped,
/// IPv4-compatible, 6to4, NAT64) when the address they carry is one of those.
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_private_address(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let first = segments[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                // IPv4-compatible (::a.b.c.d, deprecated): nothing legitimate uses it.
                || segments[..6] == [0; 6]
                // NAT64 for local use (RFC 8215): a translator inside the network.
                || segments[..3] == [0x64, 0xff9b, 1]
        }
    }
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`), 6to4
/// (`2002:AABB:CCDD::/48`, RFC 3056) and the well-known NAT64 prefix (`64:ff9b::/96`,
/// RFC 6052). On an IPv6-only network DNS64 puts every public site under that prefix,
/// so it is refused only when the IPv4 address inside is.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let from = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match s {
        [0x2002, high, low, ..] => Some(from(high, low)),
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(from(high, low)),
        _ => None,
    }
}

/// Whether a URL names a private address literally (`localhost` included).
pub(crate) fn is_private_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => is_private_address(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_private_address(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Whether a host name lies under the reserved top-level domain "invalid".
fn is_reserved_invalid(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

/// The system resolver, with private answers refused unless allowed.
pub(crate) struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            // RFC 6761: resolvers should answer names under "invalid" negatively at once,
            // without asking the network. It also gives tests a DNS failure that stays local.
            if is_reserved_invalid(&host) {
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("dns error: {host} is a reserved .invalid name (RFC 6761)"),
                )) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private && addrs.iter().any(|a| is_private_address(a.ip())) {
                return Err(Box::new(PrivateAddressError(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_invalid_names() {
        assert!(is_reserved_invalid("policy.invalid"));
        assert!(is_reserved_invalid("A.INVALID."));
        assert!(!is_reserved_invalid("invalid.example.com"));
        assert!(!is_reserved_invalid("notinvalid"));
    }

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_private_address(ip.parse().unwrap()), "{ip}");
        }
    }

    fn private(ip: &str) -> bool {
        is_private_address(ip.parse().unwrap())
    }

    #[test]
    fn nat64_is_judged_by_the_ipv4_address_inside() {
        assert!(private("64:ff9b::7f00:1"), "127.0.0.1 through NAT64");
        assert!(private("64:ff9b::a9fe:a9fe"), "169.254.169.254 through NAT64");
        assert!(private("64:ff9b::192.168.0.1"));
        assert!(!private("64:ff9b::5db8:d822"), "93.184.216.34 through DNS64 is public");
        assert!(private("64:ff9b:1::5db8:d822"), "local-use NAT64 (RFC 8215)");
    }

    #[test]
    fn six_to_four_is_judged_by_the_ipv4_address_inside() {
        assert!(private("2002:7f00:1::1"), "6to4 of 127.0.0.1");
        assert!(private("2002:a00:1::"), "6to4 of 10.0.0.1");
        assert!(private("2002:c0a8:101::1"), "6to4 of 192.168.1.1");
        assert!(!private("2002:5db8:d822::1"), "6to4 of a public address");
    }

    #[test]
    fn ipv4_compatible_addresses_are_refused() {
        assert!(private("::127.0.0.1"));
        assert!(private("::10.0.0.1"));
        assert!(private("::8.8.8.8"), "deprecated: nothing public uses it");
    }

    #[test]
    fn ietf_protocol_multicast_and_reserved_ranges_are_refused() {
        for ip in [
            "192.0.0.1",
            "192.0.0.170",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.254",
            "198.18.0.1",
            "ff02::1",
            "ff05::2",
        ] {
            assert!(private(ip), "{ip}");
        }
        for ip in ["192.0.1.1", "223.255.255.1", "198.20.0.1", "2001:4860:4860::8888"] {
            assert!(!private(ip), "{ip}");
        }
    }

    #[test]
    fn private_hosts() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://localhost/",
            "http://[::1]/",
            "http://app.localhost/",
        ] {
            assert!(is_private_host(&Url::parse(url).unwrap()), "{url}");
        }
        assert!(!is_private_host(&Url::parse("https://www.tiktok.com/").unwrap()));
    }
}
