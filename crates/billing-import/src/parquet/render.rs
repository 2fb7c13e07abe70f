//! Parquet values as CSV text: the rules are in the `parquet` module comment.

use std::fmt::Write as _;

use ::parquet::data_type::Decimal;
use ::parquet::record::Field;
use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};

/// A top-level value as CSV text.
pub(super) fn render(field: &Field, nanos: bool, out: &mut String) -> Result<(), String> {
    match field {
        Field::Null => {}
        Field::Str(s) => out.push_str(s),
        Field::Bytes(b) => out.push_str(utf8(b.data())?),
        Field::Long(n) if nanos => out.push_str(&timestamp(DateTime::from_timestamp_nanos(*n))),
        Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => json(field, out)?,
        Field::Float16(_) | Field::Float(_) | Field::Double(_) => {
            let _ = write!(out, "{}", float(field));
        }
        other => out.push_str(&scalar(other)?),
    }
    Ok(())
}

/// Numbers, dates and times (everything but strings, floats and nested values).
fn scalar(field: &Field) -> Result<String, String> {
    Ok(match field {
        Field::Bool(b) => b.to_string(),
        Field::Byte(n) => n.to_string(),
        Field::Short(n) => n.to_string(),
        Field::Int(n) => n.to_string(),
        Field::Long(n) => n.to_string(),
        Field::UByte(n) => n.to_string(),
        Field::UShort(n) => n.to_string(),
        Field::UInt(n) => n.to_string(),
        Field::ULong(n) => n.to_string(),
        Field::Decimal(d) => decimal(d)?,
        Field::Date(days) => NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .ok_or_else(|| format!("date {days} (days since 1970-01-01) is out of range"))?,
        Field::TimeMillis(ms) => time_of_day(i64::from(*ms) * 1_000_000)?,
        Field::TimeMicros(us) => time_of_day(us.saturating_mul(1_000))?,
        Field::TimestampMillis(ms) => DateTime::from_timestamp_millis(*ms)
            .map(timestamp)
            .ok_or_else(|| format!("timestamp {ms} ms is out of range"))?,
        Field::TimestampMicros(us) => DateTime::from_timestamp_micros(*us)
            .map(timestamp)
            .ok_or_else(|| format!("timestamp {us} µs is out of range"))?,
        other => return Err(format!("unexpected value {other}")),
    })
}

fn float(field: &Field) -> String {
    match field {
        Field::Float16(v) => v.to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        _ => String::new(),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| "is binary data, not UTF-8 text".to_string())
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn time_of_day(nanos: i64) -> Result<String, String> {
    let secs = u32::try_from(nanos.div_euclid(1_000_000_000)).ok();
    let frac = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok();
    secs.zip(frac)
        .and_then(|(s, f)| NaiveTime::from_num_seconds_from_midnight_opt(s, f))
        .map(|t| t.format("%H:%M:%S%.f").to_string())
        .ok_or_else(|| format!("time of day {nanos} ns is out of range"))
}

/// A DECIMAL from its big-endian two's-complement unscaled value and its scale, exactly.
fn decimal(d: &Decimal) -> Result<String, String> {
    let bytes = d.data();
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let fill = if negative { 0xff } else { 0x00 };
    let split = bytes.len().saturating_sub(16);
    let (head, tail) = bytes.split_at(split);
    // Wider than 16 bytes: fine while the extra bytes only repeat the sign.
    let fits = head.iter().all(|&b| b == fill)
        && (head.is_empty() || tail.first().is_some_and(|b| (b & 0x80 != 0) == negative));
    if !fits {
        return Err(format!(
            "DECIMAL of {} bytes does not fit in 128 bits",
            bytes.len()
        ));
    }
    let mut buf = [fill; 16];
    buf[16 - tail.len()..].copy_from_slice(tail);
    let unscaled = i128::from_be_bytes(buf);
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = d.scale();
    let Ok(scale) = usize::try_from(scale) else {
        // A negative scale (not allowed by the format, tolerated): trailing zeros.
        let zeros = usize::try_from(scale.unsigned_abs()).unwrap_or(0);
        return Ok(format!("{sign}{digits}{}", "0".repeat(zeros)));
    };
    if scale == 0 {
        return Ok(format!("{sign}{digits}"));
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    Ok(format!("{sign}{int}.{frac}"))
}

/// A nested value as JSON (see the module comment for the form).
fn json(field: &Field, out: &mut String) -> Result<(), String> {
    match field {
        Field::Null => out.push_str("null"),
        Field::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Field::Str(s) => json_string(s, out),
        Field::Bytes(b) => json_string(utf8(b.data())?, out),
        Field::Float16(_) | Field::Float(_) | Field::Double(_) => {
            let text = float(field);
            if text.parse::<f64>().is_ok_and(f64::is_finite) {
                out.push_str(&text);
            } else {
                json_string(&text, out);
            }
        }
        Field::Byte(_)
        | Field::Short(_)
        | Field::Int(_)
        | Field::Long(_)
        | Field::UByte(_)
        | Field::UShort(_)
        | Field::UInt(_)
        | Field::ULong(_) => out.push_str(&scalar(field)?),
        Field::Group(row) => {
            out.push('{');
            for (i, (name, value)) in row.get_column_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(name, out);
                out.push_str(": ");
                json(value, out)?;
            }
            out.push('}');
        }
        Field::ListInternal(list) => {
            out.push('[');
            for (i, value) in list.elements().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json(value, out)?;
            }
            out.push(']');
        }
        Field::MapInternal(map) => {
            out.push('{');
            for (i, (key, value)) in map.entries().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let mut text = String::new();
                render(key, false, &mut text)?;
                json_string(&text, out);
                out.push_str(": ");
                json(value, out)?;
            }
            out.push('}');
        }
        other => json_string(&scalar(other)?, out),
    }
    Ok(())
}

fn json_string(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        // Serialising a str cannot fail; keep the text rather than lose it.
        Err(_) => out.push_str(s),
    }
}

#[cfg(test)]
mod tests {
    use ::parquet::data_type::Decimal;

    use super::*;

    #[test]
    fn decimals_render_exactly_from_unscaled_and_scale() {
        let cases: &[(i128, i32, &str)] = &[
            (123, 2, "1.23"),
            (123_000_000_000, 11, "1.23000000000"),
            (-5, 3, "-0.005"),
            (0, 2, "0.00"),
            (42, 0, "42"),
            (
                // DECIMAL(38,11)'s largest value.
                10i128.pow(38) - 1,
                11,
                "999999999999999999999999999.99999999999",
            ),
            (-261_370_000_000, 11, "-2.61370000000"),
        ];
        for &(unscaled, scale, text) in cases {
            let d = Decimal::from_bytes(unscaled.to_be_bytes().to_vec().into(), 38, scale);
            assert_eq!(decimal(&d).as_deref(), Ok(text), "{unscaled} scale {scale}");
        }
        let small = Decimal::from_i32(-150, 5, 2);
        assert_eq!(decimal(&small).as_deref(), Ok("-1.50"));
        let mut wide = vec![0xffu8; 4];
        wide.extend_from_slice(&(-7i128).to_be_bytes());
        let d = Decimal::from_bytes(wide.into(), 40, 1);
        assert_eq!(decimal(&d).as_deref(), Ok("-0.7"));
        let mut too_wide = vec![0x01u8];
        too_wide.extend_from_slice(&[0u8; 16]);
        assert!(decimal(&Decimal::from_bytes(too_wide.into(), 40, 0)).is_err());
    }

    #[test]
    fn nested_values_render_as_json_like_the_csv_exports() {
        // Maps and lists have no public constructor; tests/parquet.rs reads them from files.
        use ::parquet::record::Row;
        let inner = Row::new(vec![
            ("cost".into(), Field::Decimal(Decimal::from_i64(150, 10, 2))),
            ("at".into(), Field::TimestampMillis(0)),
        ]);
        let group = Field::Group(Row::new(vec![
            ("team".into(), Field::Str("web \"blue\"".into())),
            ("env".into(), Field::Null),
            ("n".into(), Field::Int(-3)),
            ("x".into(), Field::Double(f64::NAN)),
            ("y".into(), Field::Float(0.25)),
            ("inner".into(), Field::Group(inner)),
        ]));
        let mut out = String::new();
        render(&group, false, &mut out).expect("group");
        assert_eq!(
            out,
            r#"{"team": "web \"blue\"", "env": null, "n": -3, "x": "NaN", "y": 0.25, "inner": {"cost": "1.50", "at": "1970-01-01T00:00:00Z"}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed["inner"]["cost"], "1.50");
    }

    #[test]
    fn times_render_as_rfc3339_utc() {
        let mut out = String::new();
        render(&Field::TimestampMillis(1_725_271_200_000), false, &mut out).expect("ts");
        assert_eq!(out, "2024-09-02T10:00:00Z");
        out.clear();
        render(
            &Field::TimestampMicros(1_725_271_200_000_001),
            false,
            &mut out,
        )
        .expect("ts");
        assert_eq!(out, "2024-09-02T10:00:00.000001Z");
        out.clear();
        render(&Field::Long(1_725_271_200_500_000_000), true, &mut out).expect("ts");
        assert_eq!(out, "2024-09-02T10:00:00.500Z");
        out.clear();
        render(&Field::Date(19_967), false, &mut out).expect("date");
        assert_eq!(out, "2024-09-01");
        out.clear();
        render(&Field::Double(0.1), false, &mut out).expect("double");
        assert_eq!(out, "0.1");
    }
}
