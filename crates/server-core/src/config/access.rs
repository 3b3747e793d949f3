//! The `security { }` and `refer { }` blocks of a vhost.
//!
//! Unlike the other blocks, `security` takes `allow` and `deny` as often as
//! needed (one rule a line, as SRS); `enabled` and each `refer` list may be
//! given once.

use std::net::Ipv6Addr;

use super::directives::Seen;
use super::error::{ConfigError, ConfigErrorKind};
use super::parser::Directive;
use super::values::{bad, no_block, on_off, some};
use crate::access::{
    IpNetError, ReferConfig, RuleAction, RuleTarget, SecurityConfig, SecurityRule, Verb,
};

/// `security { enabled; allow|deny publish|play all|IP|CIDR; }`.
pub(super) fn security(dirs: &[Directive]) -> Result<SecurityConfig, ConfigError> {
    let mut c = SecurityConfig::default();
    let mut seen = Seen::default();
    for d in dirs {
        match d.name.as_str() {
            "enabled" => {
                seen.name(d)?;
                c.enabled = on_off(d)?;
            }
            "allow" => c.rules.push(rule(d, RuleAction::Allow)?),
            "deny" => c.rules.push(rule(d, RuleAction::Deny)?),
            _ => return Err(unknown(d)),
        }
    }
    Ok(c)
}

/// `allow|deny publish|play all|IP|CIDR;`.
fn rule(d: &Directive, action: RuleAction) -> Result<SecurityRule, ConfigError> {
    no_block(d)?;
    let [verb, target] = d.args.as_slice() else {
        return Err(d.error(ConfigErrorKind::ArgCount {
            directive: d.name.clone(),
            expected: "two values (publish or play, then all, an address or a network)",
            got: d.args.len(),
        }));
    };
    let verb = match verb.as_str() {
        "publish" => Verb::Publish,
        "play" => Verb::Play,
        v => return Err(bad(d, v, "publish or play")),
    };
    let target = target.parse::<RuleTarget>().map_err(|e| match e {
        IpNetError::Address => bad(
            d,
            target,
            "all, an IPv4 or IPv6 address, or a network such as 10.0.0.0/8 or 2001:db8::/32",
        ),
        IpNetError::Prefix { max } => bad(
            d,
            target,
            format!("a network whose prefix length is 0 to {max}"),
        ),
    })?;
    Ok(SecurityRule {
        action,
        verb,
        target,
    })
}

/// `refer { enabled; all DOMAIN...; publish DOMAIN...; play DOMAIN...; }`.
pub(super) fn refer(dirs: &[Directive]) -> Result<ReferConfig, ConfigError> {
    let mut c = ReferConfig::default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.name(d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "all" => c.all = Some(domains(d)?),
            "publish" => c.publish = Some(domains(d)?),
            "play" => c.play = Some(domains(d)?),
            _ => return Err(unknown(d)),
        }
    }
    Ok(c)
}

/// One or more domains. An empty list is refused: SRS reads it as "refuse
/// every page", which is more likely a mistake than a wish.
fn domains(d: &Directive) -> Result<Vec<String>, ConfigError> {
    some(d)?
        .iter()
        .map(|v| {
            if is_domain(v) {
                Ok(v.clone())
            } else {
                Err(bad(
                    d,
                    v,
                    "a domain such as example.com or .example.com (no scheme, port or path)",
                ))
            }
        })
        .collect()
}

/// A host name (ASCII letters, digits, `-`, `_`, dots between labels, an
/// optional leading dot for "subdomains only" and a trailing one), or an IPv6
/// address. IPv4 addresses are host names by this rule.
fn is_domain(v: &str) -> bool {
    if v.parse::<Ipv6Addr>().is_ok() {
        return true;
    }
    let core = v.strip_prefix('.').unwrap_or(v);
    let core = core.strip_suffix('.').unwrap_or(core);
    !core.is_empty()
        && core.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn unknown(d: &Directive) -> ConfigError {
    d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_syntax() {
        for ok in [
            "example.com",
            ".example.com",
            "example.com.",
            "localhost",
            "my_host-1.example",
            "192.168.1.10",
            "::1",
            "2001:db8::1",
        ] {
            assert!(is_domain(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a..b",
            "http://example.com",
            "example.com/",
            "example.com:80",
            "*.example.com",
            "user@example.com",
            "exa mple.com",
            "例え.jp",
            "[::1]",
        ] {
            assert!(!is_domain(bad), "{bad}");
        }
    }
}
