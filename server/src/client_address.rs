//! Who is on the other end of a request: the peer's address, or, when the peer is one of the
//! load balancers named in `server.trusted_proxies`, the nearest address in `X-Forwarded-For`
//! that is not a trusted proxy (docs/deploy.md §Load balancer). Rate limits and refusal records
//! key on it.
//!
//! A client can write anything into `X-Forwarded-For`, but each trusted proxy appends the address
//! it received the request from. Read from the right, every hop up to the first untrusted one was
//! written by a trusted proxy, so that first untrusted hop is the client as the outermost proxy
//! saw it; what a client wrote further left is never read. Without trusted proxies the header is
//! ignored, so a client cannot choose its own bucket.

use std::net::IpAddr;

use actix_web::http::header::{HeaderMap, HeaderName};
use ipnet::IpNet;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose `X-Forwarded-For` is believed (`server.trusted_proxies`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The proxies `server.trusted_proxies` names (parsed and checked by the configuration).
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut nearest = peer;
        let values: Vec<&str> = headers.get_all(X_FORWARDED_FOR).filter_map(|v| v.to_str().ok()).collect();
        for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
            // A hop a trusted proxy wrote is an address; anything else means the proxies are not
            // set up as configured: keep the nearest address known, never the client's text.
            let Ok(ip) = hop.trim().parse::<IpAddr>().map(canonical) else {
                return Some(nearest);
            };
            if !self.trusts(ip) {
                return Some(ip);
            }
            nearest = ip;
        }
        Some(nearest)
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The rate-limit bucket of an address: an IPv4 address, or an IPv6 address's /64 (one host
/// holds a whole /64, so per-address buckets would give it 2⁶⁴ of them).
pub fn bucket(ip: Option<IpAddr>) -> String {
    match ip.map(canonical) {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(v4) => v4.to_string(),
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(X_FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.9"), &headers(&["198.51.100.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let lb = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()]);
        // the load balancer appended the client's address after whatever the client wrote
        let h = headers(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(lb.client(ip("10.0.0.2"), &h), ip("198.51.100.7"));
        // two trusted proxies in a row, and the header split over two lines
        let h = headers(&["6.6.6.6", "198.51.100.7, 10.1.1.1"]);
        assert_eq!(lb.client(ip("127.0.0.1"), &h), ip("198.51.100.7"));
        // a request from an untrusted peer cannot choose its address
        assert_eq!(lb.client(ip("198.51.100.8"), &h), ip("198.51.100.8"));
        // no header, or only trusted hops: the outermost proxy
        assert_eq!(lb.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        assert_eq!(lb.client(ip("10.0.0.2"), &headers(&["10.9.9.9"])), ip("10.9.9.9"));
        // text where an address belongs stops the walk at the nearest address known
        assert_eq!(lb.client(ip("10.0.0.2"), &headers(&["1.2.3.4, not-an-ip"])), ip("10.0.0.2"));
        // IPv4 mapped into IPv6 is the IPv4 address, for the proxy and for the client
        assert_eq!(lb.client(ip("::ffff:10.0.0.2"), &headers(&["::ffff:198.51.100.7"])), ip("198.51.100.7"));
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), bucket(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(bucket(ip("2001:db8:1:2::1")), bucket(ip("2001:db8:1:3::1")));
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(bucket(None), "unknown");
    }
}
