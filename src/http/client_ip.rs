//! The client's address for rate limits. Behind a load balancer every request comes from the
//! balancer, so `X-Forwarded-For` is believed only when the direct peer is one of
//! `TRUSTED_PROXIES`: then the client is the rightmost address in the header that is not itself a
//! trusted proxy (anything left of it could have been written by the client). With no trusted
//! proxies configured, the header is ignored.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::IpNet;

pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // A hop that is not an address: nothing left of it can be believed.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(v) = xff {
            r = r.insert_header(("x-forwarded-for", v));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = [IpNet::parse("10.0.0.0/8").unwrap()];
        let ip = |peer, xff| {
            client_ip(&request(peer, xff), &trusted)
                .unwrap()
                .to_string()
        };
        // Straight from the internet: the header is the client's own word, ignored.
        assert_eq!(ip("203.0.113.5", Some("1.1.1.1")), "203.0.113.5");
        // Through the balancer: the rightmost untrusted hop; a spoofed left part changes nothing.
        assert_eq!(
            ip("10.0.0.2", Some("6.6.6.6, 198.51.100.7")),
            "198.51.100.7"
        );
        assert_eq!(
            ip("10.0.0.2", Some("198.51.100.7, 10.0.0.9")),
            "198.51.100.7"
        );
        assert_eq!(ip("10.0.0.2", None), "10.0.0.2");
        assert_eq!(ip("10.0.0.2", Some("garbage, 10.0.0.3")), "10.0.0.3");
        // No trusted proxies configured: never believed.
        let none = client_ip(&request("10.0.0.2", Some("1.1.1.1")), &[]).unwrap();
        assert_eq!(none.to_string(), "10.0.0.2");
    }
}
