//! Decoding of number, duration and string tokens with Prometheus' rules and error texts.

/// Parses a NUMBER token: Go's `ParseInt(s, 0, 64)` first (hex, leading-zero octal,
/// underscores), then `ParseFloat`.
pub(crate) fn parse_number(text: &str) -> Result<f64, String> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" => return Ok(f64::INFINITY),
        "-inf" => return Ok(f64::NEG_INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    let int = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&digits[1..], 8).ok()
    } else if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Ok(i as f64);
    }
    let syntax_ok = !digits.is_empty()
        && !digits.starts_with("0x")
        && !digits.starts_with("0X")
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    match digits.parse::<f64>() {
        Ok(f) if syntax_ok && f.is_infinite() => Err(format!(
            "strconv.ParseFloat: parsing \"{text}\": value out of range"
        )),
        Ok(f) if syntax_ok => Ok(f),
        _ => Err(format!(
            "strconv.ParseFloat: parsing \"{text}\": invalid syntax"
        )),
    }
}

const NANOS_PER_MS: u64 = 1_000_000;

/// Parses a Prometheus duration (`1h30m`, `5m`, `0`) into seconds, like `model.ParseDuration`.
pub(crate) fn parse_duration(text: &str) -> Result<f64, String> {
    let total = duration_nanos(text)?;
    // Same arithmetic as Go's `Duration.Seconds()`, so values match bit for bit.
    let secs = total / 1_000_000_000;
    let nanos = total % 1_000_000_000;
    Ok(secs as f64 + nanos as f64 / 1e9)
}

/// Parses a Prometheus duration (`1h30m`, `5m`, `0`) into milliseconds, as rule files, the
/// HTTP API and test scripts write them; units must be in decreasing order, as Prometheus
/// requires.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let ms = duration_nanos(text)? / NANOS_PER_MS;
    i64::try_from(ms).map_err(|_| "duration out of range".to_string())
}

/// Parses a Prometheus duration into nanoseconds, at most `i64::MAX` as Go's `time.Duration`.
fn duration_nanos(text: &str) -> Result<u64, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 24 * 3600 * 1000 * NANOS_PER_MS),
        ("w", 7 * 24 * 3600 * 1000 * NANOS_PER_MS),
        ("d", 24 * 3600 * 1000 * NANOS_PER_MS),
        ("h", 3600 * 1000 * NANOS_PER_MS),
        ("m", 60 * 1000 * NANOS_PER_MS),
        ("s", 1000 * NANOS_PER_MS),
        ("ms", NANOS_PER_MS),
    ];
    match text {
        "0" => return Ok(0),
        "" => return Err("empty duration string".into()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: \"{text}\"");
    let mut rest = text;
    let mut total: u64 = 0;
    let mut last_unit = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(|b| !b.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(invalid());
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!("unknown unit \"{unit}\" in duration \"{text}\""));
        };
        if last_unit.is_some_and(|last| index <= last) {
            return Err(invalid());
        }
        last_unit = Some(index);
        let mult = UNITS[index].1;
        if value > (1u64 << 63) / mult {
            return Err("duration out of range".into());
        }
        total += value * mult;
        if total > i64::MAX as u64 {
            return Err("duration out of range".into());
        }
    }
    Ok(total)
}

/// A decoded string literal: its text, plus the raw bytes if they are not valid UTF-8.
pub(crate) struct Unquoted {
    pub(crate) text: String,
    pub(crate) non_utf8: Option<Vec<u8>>,
}

/// Decodes a STRING token (quotes included). The lexer has already validated the escapes.
pub(crate) fn unquote(token: &str) -> Result<Unquoted, String> {
    let mut chars = token.chars();
    let (Some(quote), Some(last)) = (chars.next(), chars.next_back()) else {
        return Err("invalid syntax".into());
    };
    if quote != last || token.len() < 2 {
        return Err("invalid syntax".into());
    }
    let body = &token[1..token.len() - 1];
    if quote == '`' {
        return Ok(Unquoted {
            text: body.to_string(),
            non_utf8: None,
        });
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let e = it.next().ok_or("invalid syntax")?;
        let simple = match e {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '\'' | '"' => Some(e as u8),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let (len, radix, first) = match e {
            '0'..='7' => (3, 8, Some(e)),
            'x' => (2, 16, None),
            'u' => (4, 16, None),
            'U' => (8, 16, None),
            _ => return Err("invalid syntax".into()),
        };
        let mut digits: String = first.into_iter().collect();
        while digits.len() < len {
            digits.push(it.next().ok_or("invalid syntax")?);
        }
        let value = u32::from_str_radix(&digits, radix).map_err(|_| "invalid syntax")?;
        match e {
            'x' | '0'..='7' => out.push(u8::try_from(value).map_err(|_| "invalid syntax")?),
            _ => {
                let c = char::from_u32(value).ok_or("invalid syntax")?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Ok(match String::from_utf8(out) {
        Ok(text) => Unquoted {
            text,
            non_utf8: None,
        },
        Err(err) => {
            let bytes = err.into_bytes();
            Unquoted {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                non_utf8: Some(bytes),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1_000").unwrap(), 1000.0);
        assert_eq!(parse_number("0x1F").unwrap(), 31.0);
        assert_eq!(parse_number("010").unwrap(), 8.0);
        assert_eq!(parse_number("08").unwrap(), 8.0);
        assert_eq!(parse_number("1e3").unwrap(), 1000.0);
        assert_eq!(parse_number(".5").unwrap(), 0.5);
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_number("Inf").unwrap(), f64::INFINITY);
        assert_eq!(
            parse_number("1e999").unwrap_err(),
            "strconv.ParseFloat: parsing \"1e999\": value out of range"
        );
        assert_eq!(
            parse_number("0x").unwrap_err(),
            "strconv.ParseFloat: parsing \"0x\": invalid syntax"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("5ms").unwrap(), 0.005);
        assert_eq!(parse_duration("1y").unwrap(), 31_536_000.0);
        assert_eq!(
            parse_duration("5m1h").unwrap_err(),
            "not a valid duration string: \"5m1h\""
        );
        assert_eq!(
            parse_duration("5y1hs").unwrap_err(),
            "unknown unit \"hs\" in duration \"5y1hs\""
        );
        assert_eq!(parse_duration("300y").unwrap_err(), "duration out of range");
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\n\x41\u00e9\101""#).unwrap().text, "a\nAéA");
        assert_eq!(unquote(r"'it\'s'").unwrap().text, "it's");
        assert_eq!(unquote(r"`a\n`").unwrap().text, "a\\n");
        let raw = unquote(r#""a\xc5z""#).unwrap();
        assert_eq!(raw.non_utf8.as_deref(), Some(&b"a\xc5z"[..]));
    }
}
