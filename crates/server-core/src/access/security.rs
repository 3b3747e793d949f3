//! SRS's `security { enabled on; allow|deny publish|play all|IP|CIDR; }`:
//! who may publish and play, by client address.
//!
//! The rules are read as SRS 5 reads them (`srs_app_security.cpp`), whatever
//! their order in the block:
//!
//! 1. `enabled off` (the default): everyone may publish and play.
//! 2. A `deny` rule for the verb that matches the client refuses it.
//! 3. An `allow` rule for the verb that matches the client admits it.
//! 4. Otherwise the client is refused if the block has any `allow` rule (for
//!    either verb: allow rules make the block an allow list) or no rule at all,
//!    and admitted if it has only `deny` rules.
//!
//! Where we differ from SRS: SRS matches IPv4 only (an IPv6 rule never
//! matches, an IPv6 client only `all`). Here rules may be IPv6 addresses and
//! networks too, and a client that reaches an IPv6 listener from IPv4
//! (`::ffff:10.1.2.3`) is the IPv4 client `10.1.2.3` and matches IPv4 rules.
//! A rule written as a mapped address (`::ffff:10.0.0.0/104`) is read as the
//! IPv4 rule it means (`10.0.0.0/8`). So `0.0.0.0/0` is every IPv4 client,
//! `::/0` every IPv6 one, and `all` both. As in SRS, a network written with
//! host bits (`10.1.2.3/8`) means the network they are in (`10.0.0.0/8`).

use std::fmt;
use std::net::IpAddr;

use super::Verb;

/// `vhost { security { ... } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    /// `enabled` (default off: everyone may publish and play).
    pub enabled: bool,
    /// The `allow` and `deny` rules, in file order (the order does not change
    /// the outcome; it only decides which of several matching rules a denial names).
    pub rules: Vec<SecurityRule>,
}

/// Why the rules refused a client: a sentence naming the rule (or the lack of
/// one) and the client, for the log and the client's error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SecurityDenied(pub String);

/// One `allow|deny publish|play all|IP|CIDR;` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityRule {
    /// `allow` or `deny`.
    pub action: RuleAction,
    /// `publish` or `play`.
    pub verb: Verb,
    /// `all`, an address or a network.
    pub target: RuleTarget,
}

/// Whether a rule admits or refuses the clients it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// `allow`.
    Allow,
    /// `deny`.
    Deny,
}

/// The clients a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTarget {
    /// `all`: every client, IPv4 and IPv6.
    All,
    /// An address (`10.1.2.3`, a network of one) or a network (`10.0.0.0/8`).
    Net(IpNet),
}

/// An IPv4 or IPv6 network: an address and a prefix length.
///
/// The address is kept as written (host bits and all) so a denial names the
/// rule the way the operator wrote it; matching ignores the host bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not an [`IpNet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IpNetError {
    /// The part before `/` is not an IPv4 or IPv6 address.
    #[error("not an IPv4 or IPv6 address")]
    Address,
    /// The part after `/` is not a decimal prefix length the family allows.
    #[error("prefix length must be 0..={max}")]
    Prefix {
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
}

impl IpNet {
    /// `addr/prefix`; `None` if `prefix` is longer than the family's address.
    /// An IPv4-mapped IPv6 network of prefix 96 or more becomes its IPv4 network.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        if prefix > max_prefix(addr) {
            return None;
        }
        if let IpAddr::V6(v6) = addr {
            if let (Some(v4), Some(p4)) = (v6.to_ipv4_mapped(), prefix.checked_sub(96)) {
                return Some(IpNet {
                    addr: IpAddr::V4(v4),
                    prefix: p4,
                });
            }
        }
        Some(IpNet { addr, prefix })
    }

    /// The network of one address.
    pub fn host(addr: IpAddr) -> IpNet {
        let addr = addr.to_canonical();
        IpNet {
            addr,
            prefix: max_prefix(addr),
        }
    }

    /// The address as written.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is in this network. An IPv4-mapped IPv6 `ip` is taken as
    /// the IPv4 address it carries; the two families never match each other.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask_u32(self.prefix);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask_u128(self.prefix);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = IpNetError;

    /// `IP` (a network of one address) or `IP/N` with a decimal `N`.
    fn from_str(s: &str) -> Result<IpNet, IpNetError> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| IpNetError::Address)?;
        let max = max_prefix(addr);
        let Some(prefix) = prefix else {
            return Ok(IpNet::host(addr));
        };
        let bad_prefix = IpNetError::Prefix { max };
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_prefix);
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad_prefix)?;
        IpNet::new(addr, prefix).ok_or(bad_prefix)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == max_prefix(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The top `prefix` bits set (`prefix` at most 32).
fn mask_u32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

/// The top `prefix` bits set (`prefix` at most 128).
fn mask_u128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

impl RuleTarget {
    /// Whether the target matches client `ip`.
    pub fn matches(&self, ip: IpAddr) -> bool {
        match self {
            RuleTarget::All => true,
            RuleTarget::Net(net) => net.contains(ip),
        }
    }
}

impl std::str::FromStr for RuleTarget {
    type Err = IpNetError;

    /// `all`, `IP` or `IP/N`.
    fn from_str(s: &str) -> Result<RuleTarget, IpNetError> {
        if s == "all" {
            return Ok(RuleTarget::All);
        }
        s.parse().map(RuleTarget::Net)
    }
}

impl fmt::Display for RuleTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleTarget::All => f.write_str("all"),
            RuleTarget::Net(net) => net.fmt(f),
        }
    }
}

impl fmt::Display for SecurityRule {
    /// As written in the config: `deny publish 10.0.0.0/8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            RuleAction::Allow => "allow",
            RuleAction::Deny => "deny",
        };
        write!(f, "{action} {} {}", verb_name(self.verb), self.target)
    }
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Publish => "publish",
        Verb::Play => "play",
    }
}

impl SecurityConfig {
    /// Whether `ip` may do `verb`; see the module documentation for the order
    /// in which the rules are read.
    pub fn check(&self, verb: Verb, ip: IpAddr) -> Result<(), SecurityDenied> {
        if !self.enabled {
            return Ok(());
        }
        let ip = ip.to_canonical();
        let verb_name = verb_name(verb);
        let matching = |action: RuleAction| {
            self.rules
                .iter()
                .find(|r| r.action == action && r.verb == verb && r.target.matches(ip))
        };
        if let Some(rule) = matching(RuleAction::Deny) {
            return Err(SecurityDenied(format!(
                "security: {verb_name} from {ip} denied by rule '{rule}'"
            )));
        }
        if matching(RuleAction::Allow).is_some() {
            return Ok(());
        }
        if self.rules.is_empty() {
            return Err(SecurityDenied(format!(
                "security: {verb_name} from {ip} denied: enabled without rules"
            )));
        }
        if self.rules.iter().any(|r| r.action == RuleAction::Allow) {
            return Err(SecurityDenied(format!(
                "security: {verb_name} from {ip} denied: no 'allow {verb_name}' rule matches"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("test network")
    }

    fn rule(action: RuleAction, verb: Verb, target: &str) -> SecurityRule {
        SecurityRule {
            action,
            verb,
            target: target.parse().expect("test target"),
        }
    }

    fn allow(verb: Verb, target: &str) -> SecurityRule {
        rule(RuleAction::Allow, verb, target)
    }

    fn deny(verb: Verb, target: &str) -> SecurityRule {
        rule(RuleAction::Deny, verb, target)
    }

    fn on(rules: Vec<SecurityRule>) -> SecurityConfig {
        SecurityConfig {
            enabled: true,
            rules,
        }
    }

    use Verb::{Play, Publish};

    #[test]
    fn disabled_allows_everyone_whatever_the_rules() {
        let c = SecurityConfig {
            enabled: false,
            rules: vec![deny(Play, "all"), deny(Publish, "all")],
        };
        assert!(c.check(Play, ip("1.2.3.4")).is_ok());
        assert!(c.check(Publish, ip("::1")).is_ok());
        assert!(SecurityConfig::default()
            .check(Publish, ip("1.2.3.4"))
            .is_ok());
    }

    #[test]
    fn enabled_without_rules_denies_everyone() {
        let c = on(vec![]);
        for v in [Play, Publish] {
            let e = c.check(v, ip("127.0.0.1")).unwrap_err();
            assert!(e.0.contains("enabled without rules"), "{e}");
        }
    }

    #[test]
    fn deny_is_read_before_allow_whatever_the_order() {
        for rules in [
            vec![allow(Play, "1.2.3.4"), deny(Play, "1.2.3.4")],
            vec![deny(Play, "1.2.3.4"), allow(Play, "1.2.3.4")],
            vec![allow(Play, "all"), deny(Play, "1.2.3.0/24")],
        ] {
            let e = on(rules).check(Play, ip("1.2.3.4")).unwrap_err();
            assert!(
                e.0.starts_with("security: play from 1.2.3.4 denied by rule 'deny play 1.2.3."),
                "{e}"
            );
        }
    }

    #[test]
    fn denial_names_the_first_matching_rule() {
        let c = on(vec![deny(Publish, "10.0.0.0/8"), deny(Publish, "all")]);
        assert_eq!(
            c.check(Publish, ip("10.9.8.7")).unwrap_err().to_string(),
            "security: publish from 10.9.8.7 denied by rule 'deny publish 10.0.0.0/8'"
        );
        assert_eq!(
            c.check(Publish, ip("11.0.0.1")).unwrap_err().to_string(),
            "security: publish from 11.0.0.1 denied by rule 'deny publish all'"
        );
    }

    #[test]
    fn only_deny_rules_admit_the_rest() {
        let c = on(vec![deny(Play, "1.2.3.4"), deny(Play, "5.6.7.8")]);
        assert!(c.check(Play, ip("1.2.3.4")).is_err());
        assert!(c.check(Play, ip("5.6.7.8")).is_err());
        assert!(c.check(Play, ip("1.2.3.5")).is_ok());
        // A deny rule for the other verb does not touch this one.
        assert!(c.check(Publish, ip("1.2.3.4")).is_ok());
        assert!(on(vec![deny(Play, "all")])
            .check(Publish, ip("1.2.3.4"))
            .is_ok());
    }

    #[test]
    fn allow_rules_make_an_allow_list_for_both_verbs() {
        // As SRS: any allow rule turns the default to deny, for either verb.
        let c = on(vec![allow(Play, "11.12.13.14")]);
        assert!(c.check(Play, ip("11.12.13.14")).is_ok());
        assert!(c.check(Play, ip("12.13.14.15")).is_err());
        let e = c.check(Publish, ip("11.12.13.14")).unwrap_err();
        assert_eq!(
            e.0,
            "security: publish from 11.12.13.14 denied: no 'allow publish' rule matches"
        );
        let c = on(vec![allow(Publish, "all"), allow(Play, "all")]);
        assert!(c.check(Publish, ip("8.8.8.8")).is_ok());
        assert!(c.check(Play, ip("2001:db8::1")).is_ok());
    }

    #[test]
    fn rules_of_one_verb_repeat() {
        let c = on(vec![
            allow(Publish, "10.0.0.1"),
            allow(Publish, "10.0.0.2"),
            allow(Publish, "192.168.0.0/16"),
            allow(Play, "all"),
        ]);
        for ok in ["10.0.0.1", "10.0.0.2", "192.168.44.5"] {
            assert!(c.check(Publish, ip(ok)).is_ok(), "{ok}");
        }
        assert!(c.check(Publish, ip("10.0.0.3")).is_err());
        assert!(c.check(Play, ip("10.0.0.3")).is_ok());
    }

    #[test]
    fn all_matches_both_families() {
        let c = on(vec![deny(Publish, "all")]);
        for who in [
            "0.0.0.0",
            "1.2.3.4",
            "::",
            "::1",
            "2001:db8::5",
            "::ffff:1.2.3.4",
        ] {
            assert!(c.check(Publish, ip(who)).is_err(), "{who}");
        }
    }

    #[test]
    fn ipv4_networks_and_edges() {
        assert!(net("10.0.0.0/8").contains(ip("10.255.255.255")));
        assert!(net("10.0.0.0/8").contains(ip("10.0.0.0")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.0")));
        assert!(!net("10.0.0.0/8").contains(ip("9.255.255.255")));
        // /0 is every IPv4 address and no IPv6 one.
        assert!(net("0.0.0.0/0").contains(ip("255.255.255.255")));
        assert!(net("0.0.0.0/0").contains(ip("0.0.0.0")));
        assert!(!net("0.0.0.0/0").contains(ip("2001:db8::1")));
        // /32 and a bare address are one address.
        assert!(net("1.2.3.4/32").contains(ip("1.2.3.4")));
        assert!(!net("1.2.3.4/32").contains(ip("1.2.3.5")));
        assert_eq!(net("1.2.3.4"), net("1.2.3.4/32"));
        // /31 and /1 boundaries.
        assert!(net("1.2.3.4/31").contains(ip("1.2.3.5")));
        assert!(!net("1.2.3.4/31").contains(ip("1.2.3.6")));
        assert!(net("128.0.0.0/1").contains(ip("200.1.1.1")));
        assert!(!net("128.0.0.0/1").contains(ip("127.255.255.255")));
        // Host bits are ignored, as SRS ignores them.
        assert!(net("10.1.2.3/8").contains(ip("10.200.0.1")));
        assert_eq!(net("10.1.2.3/8").to_string(), "10.1.2.3/8");
    }

    #[test]
    fn ipv6_networks_and_edges() {
        assert!(net("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!net("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(net("::/0").contains(ip("ffff::1")));
        assert!(net("::/0").contains(ip("::")));
        assert!(net("::1/128").contains(ip("::1")));
        assert!(!net("::1/128").contains(ip("::2")));
        assert_eq!(net("::1"), net("::1/128"));
        assert!(net("fe80::/10").contains(ip("febf::1")));
        assert!(!net("fe80::/10").contains(ip("fec0::1")));
        assert!(net("2001:db8::1/127").contains(ip("2001:db8::")));
        assert!(!net("2001:db8::1/127").contains(ip("2001:db8::2")));
        // IPv6 networks never match IPv4 clients, however they arrive.
        assert!(!net("::/0").contains(ip("1.2.3.4")));
        assert!(!net("::/0").contains(ip("::ffff:1.2.3.4")));
    }

    #[test]
    fn mapped_clients_and_rules_are_ipv4() {
        let c = on(vec![deny(Play, "10.0.0.0/8")]);
        let e = c.check(Play, ip("::ffff:10.1.2.3")).unwrap_err();
        assert_eq!(
            e.0,
            "security: play from 10.1.2.3 denied by rule 'deny play 10.0.0.0/8'"
        );
        assert!(c.check(Play, ip("::ffff:11.1.2.3")).is_ok());
        // A rule written mapped is the IPv4 rule it means.
        assert_eq!(net("::ffff:10.0.0.0/104"), net("10.0.0.0/8"));
        assert_eq!(net("::ffff:1.2.3.4"), net("1.2.3.4"));
        assert!(net("::ffff:10.0.0.0/104").contains(ip("10.3.3.3")));
        assert!(net("::ffff:0.0.0.0/96").contains(ip("200.0.0.1")));
        // Below /96 it stays IPv6 (it is wider than the mapped range).
        assert!(!net("::ffff:0.0.0.0/80").contains(ip("200.0.0.1")));
        // IPv4-compatible (deprecated, ::1.2.3.4) addresses are IPv6.
        assert!(!net("1.2.3.4").contains(ip("::1.2.3.4")));
    }

    #[test]
    fn network_syntax_is_strict() {
        let prefix4 = Err(IpNetError::Prefix { max: 32 });
        let prefix6 = Err(IpNetError::Prefix { max: 128 });
        assert_eq!("10.0.0.0/33".parse::<IpNet>(), prefix4);
        assert_eq!("::/129".parse::<IpNet>(), prefix6);
        assert_eq!("10.0.0.0/".parse::<IpNet>(), prefix4);
        assert_eq!("10.0.0.0/-1".parse::<IpNet>(), prefix4);
        assert_eq!("10.0.0.0/+8".parse::<IpNet>(), prefix4);
        assert_eq!("10.0.0.0/8/8".parse::<IpNet>(), prefix4);
        assert_eq!("10.0.0.0/0008".parse::<IpNet>(), prefix4);
        assert_eq!("10.0.0.0/ 8".parse::<IpNet>(), prefix4);
        for bad in [
            "",
            "all ",
            "10.0.0",
            "10.0.0.256",
            "10.0.0.0.0",
            "host.example",
            "fe80::1%eth0",
            "/8",
            "[::1]",
            "1.2.3.4:80",
        ] {
            assert_eq!(bad.parse::<IpNet>(), Err(IpNetError::Address), "{bad}");
        }
        assert_eq!("all".parse::<RuleTarget>(), Ok(RuleTarget::All));
        assert_eq!(net("10.0.0.0/08"), net("10.0.0.0/8"));
    }

    #[test]
    fn rules_display_as_written() {
        assert_eq!(allow(Publish, "all").to_string(), "allow publish all");
        assert_eq!(
            deny(Play, "2001:db8::/32").to_string(),
            "deny play 2001:db8::/32"
        );
        assert_eq!(deny(Play, "::1").to_string(), "deny play ::1");
    }
}
