//! One address: checked and normalised (case, punycode, percent-escapes).

use email_address::EmailAddress;

use super::*;

/// Validates and normalises one bare address; the error is the reason in plain words.
pub(super) fn check_address(s: &str) -> std::result::Result<String, &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    let s = decode_percent(s);
    let s = s.as_ref();
    if s.chars().any(is_space) {
        return Err(if s.contains('@') {
            "spaces are not allowed"
        } else {
            "missing @"
        });
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("missing @");
    };
    if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
        return Err("more than one @");
    }
    if local.is_empty() {
        return Err("nothing before the @");
    }
    if domain.is_empty() {
        return Err("nothing after the @");
    }
    if local.len() > 64 {
        return Err("the part before the @ is too long (at most 64 characters)");
    }
    if local.starts_with('.') || local.ends_with('.') || has_double_dot(local) {
        return Err("the part before the @ has a misplaced dot");
    }
    if !domain.contains('.') {
        return Err("the domain has no dot");
    }
    let mut email = String::with_capacity(local.len() + 1 + domain.len());
    email.push_str(local);
    email.push('@');
    push_ascii_domain(domain, &mut email)?;
    if email.len() > MAX_EMAIL_LEN {
        return Err("too long (an address has at most 254 characters)");
    }
    // The crate's part checks allocate nothing (a full parse copies the address).
    if !EmailAddress::is_valid_local_part(local) {
        return Err(if local.contains('"') {
            "has an unmatched quote"
        } else {
            "contains a character that is not allowed in an address"
        });
    }
    if !EmailAddress::is_valid_domain(&email[local.len() + 1..]) {
        return Err("the domain is not valid");
    }
    Ok(email)
}

/// `a..b`; a byte loop, as `str::contains` with a pattern costs more than the whole check here.
pub(super) fn has_double_dot(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'.' && w[1] == b'.')
}

/// `jane%40example.com` from a mailto: link. An address whose decoding still holds a `%` is
/// kept as written (`%` is allowed before the @): decoding it again would change it again
/// (`%4%41` → `%4A` → `J`), and a normalised address must stay the same when normalised twice.
pub(super) fn decode_percent(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(decoded) if !decoded.contains('%') => std::borrow::Cow::Owned(decoded),
        _ => std::borrow::Cow::Borrowed(s),
    }
}

/// Appends the domain in lower-case ASCII (punycode for international domains) to `out`,
/// checked label by label.
pub(super) fn push_ascii_domain(
    domain: &str,
    out: &mut String,
) -> std::result::Result<(), &'static str> {
    if domain.starts_with('.') || domain.ends_with('.') || has_double_dot(domain) {
        return Err("the domain has a misplaced dot");
    }
    let start = out.len();
    if domain.is_ascii() {
        out.extend(domain.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push_str(&idna::domain_to_ascii_strict(domain).map_err(|_| "the domain is not valid")?);
    }
    let ascii = &out[start..];
    if ascii.len() > 253 {
        return Err("the domain is too long");
    }
    let mut labels = 0;
    let mut last = "";
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err("the domain has a misplaced dot");
        }
        if label.len() > 63 {
            return Err("the domain is too long");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("the domain contains a character that is not allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part of the domain starts or ends with a dash");
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err("the domain has no dot");
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the domain is not valid");
    }
    Ok(())
}
