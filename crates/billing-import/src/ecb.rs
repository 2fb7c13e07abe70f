//! The ECB euro foreign exchange reference rates, XML (`eurofxref-daily.xml`,
//! `eurofxref-hist-90d.xml`, `eurofxref-hist.xml`): one `<Cube time="YYYY-MM-DD">` per business
//! day holding `<Cube currency="USD" rate="1.0866"/>` entries, each "units per 1 EUR".
//!
//! Streamed (the full history file is ~7 MB); every rate is checked and a bad one is reported with
//! its position and attribute, and nothing from a file with a bad rate is returned.

use std::io::BufRead;

use chrono::{DateTime, NaiveDate, Utc};
use costwatch_domain::Currency;
use costwatch_domain::fx::DatedRate;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use rust_decimal::Decimal;

/// Why a reference-rates file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EcbError {
    #[error("not readable as XML at byte {position}: {reason}")]
    Xml { position: u64, reason: String },
    #[error("at byte {position}, Cube attribute {attribute:?}: {reason}")]
    Value {
        position: u64,
        attribute: &'static str,
        reason: String,
    },
    #[error("no rates found: expected <Cube time=\"…\"><Cube currency=\"…\" rate=\"…\"/></Cube>")]
    Empty,
}

/// Reads every rate of an ECB reference-rates XML document, tagged with `source` and `fetched_at`.
pub fn parse_ecb_rates(
    input: impl BufRead,
    source: &str,
    fetched_at: DateTime<Utc>,
) -> Result<Vec<DatedRate>, EcbError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut day: Option<NaiveDate> = None;
    let mut rates = Vec::new();
    // Open <Cube> elements: a file cut short (a failed download) must not pass as a shorter one.
    let mut open_cubes = 0usize;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| EcbError::Xml {
                position,
                reason: e.to_string(),
            })?;
        let opens_element = matches!(event, Event::Start(_));
        match event {
            Event::Eof if open_cubes > 0 => {
                return Err(EcbError::Xml {
                    position,
                    reason: "the document ends inside a <Cube> element (truncated?)".into(),
                });
            }
            Event::Eof => break,
            Event::End(e) if e.local_name().as_ref() == b"Cube" => {
                open_cubes = open_cubes.saturating_sub(1);
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Cube" => {
                if opens_element {
                    open_cubes += 1;
                }
                if let Some(time) = attribute(&e, "time", position)? {
                    day = Some(time.parse().map_err(|_| EcbError::Value {
                        position,
                        attribute: "time",
                        reason: format!("{time:?} is not a YYYY-MM-DD date"),
                    })?);
                }
                if let Some(rate) = cube_rate(&e, day, position)? {
                    rates.push(DatedRate {
                        day: rate.0,
                        currency: rate.1,
                        per_eur: rate.2,
                        source: source.to_string(),
                        fetched_at,
                    });
                }
            }
            _ => {}
        }
        buf.clear();
    }
    if rates.is_empty() {
        return Err(EcbError::Empty);
    }
    Ok(rates)
}

/// A `<Cube currency rate/>` inside a dated cube, checked.
fn cube_rate(
    e: &BytesStart<'_>,
    day: Option<NaiveDate>,
    position: u64,
) -> Result<Option<(NaiveDate, Currency, Decimal)>, EcbError> {
    let currency = attribute(e, "currency", position)?;
    let rate = attribute(e, "rate", position)?;
    let (currency, rate) = match (currency, rate) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(missing("rate", position)),
        (None, Some(_)) => return Err(missing("currency", position)),
        (Some(c), Some(r)) => (c, r),
    };
    let value_err = |attribute, reason: String| EcbError::Value {
        position,
        attribute,
        reason,
    };
    let day = day.ok_or_else(|| {
        value_err(
            "time",
            "a rate outside a <Cube time=\"…\"> has no date".into(),
        )
    })?;
    let currency: Currency =
        currency
            .parse()
            .map_err(|e: costwatch_domain::money::CurrencyError| {
                value_err("currency", e.to_string())
            })?;
    let rate: Decimal = rate
        .parse()
        .map_err(|_| value_err("rate", format!("{rate:?} is not a decimal number")))?;
    if rate <= Decimal::ZERO {
        return Err(value_err("rate", format!("must be positive, got {rate}")));
    }
    Ok(Some((day, currency, rate)))
}

fn missing(attribute: &'static str, position: u64) -> EcbError {
    EcbError::Value {
        position,
        attribute,
        reason: "missing".into(),
    }
}

fn attribute(
    e: &BytesStart<'_>,
    name: &'static str,
    position: u64,
) -> Result<Option<String>, EcbError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| EcbError::Xml {
            position,
            reason: err.to_string(),
        })?;
        if attr.key.local_name().as_ref() == name.as_bytes() {
            let value = attr.unescape_value().map_err(|err| EcbError::Value {
                position,
                attribute: name,
                reason: err.to_string(),
            })?;
            return Ok(Some(value.trim().to_string()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The shape of https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml, two days.
    const HIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time="2026-11-23">
			<Cube currency="USD" rate="1.1012"/>
			<Cube currency="JPY" rate="171.35"/>
			<Cube currency="GBP" rate="0.84650"/>
		</Cube>
		<Cube time='2026-11-20'>
			<Cube currency='USD' rate='1.0987'/>
			<Cube currency='GBP' rate='0.8441'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 16, 5, 0).unwrap()
    }

    #[test]
    fn every_rate_is_read_exactly_with_its_day() {
        let rates = parse_ecb_rates(HIST.as_bytes(), "ecb", at()).unwrap();
        let got: Vec<(String, String, String)> = rates
            .iter()
            .map(|r| {
                (
                    r.day.to_string(),
                    r.currency.to_string(),
                    r.per_eur.to_string(),
                )
            })
            .collect();
        let want = [
            ("2026-11-23", "USD", "1.1012"),
            ("2026-11-23", "JPY", "171.35"),
            ("2026-11-23", "GBP", "0.84650"),
            ("2026-11-20", "USD", "1.0987"),
            ("2026-11-20", "GBP", "0.8441"),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(got, want);
        assert!(
            rates
                .iter()
                .all(|r| r.source == "ecb" && r.fetched_at == at())
        );
    }

    #[test]
    fn bad_rates_name_the_attribute_and_nothing_is_returned() {
        let cases = [
            (
                HIST.replace("1.1012", "1,1012"),
                "\"rate\": \"1,1012\" is not a decimal number",
            ),
            (
                HIST.replace("0.8441", "-0.8441"),
                "\"rate\": must be positive",
            ),
            (HIST.replace("\"JPY\"", "\"yen\""), "\"currency\""),
            (
                HIST.replace("2026-11-20", "20.11.2026"),
                "\"time\": \"20.11.2026\" is not",
            ),
            (HIST.replace(" rate=\"171.35\"", ""), "\"rate\": missing"),
        ];
        for (doc, want) in cases {
            let err = parse_ecb_rates(doc.as_bytes(), "ecb", at()).unwrap_err();
            assert!(
                err.to_string().contains(want),
                "{err} should contain {want}"
            );
        }
        let truncated = &HIST[..HIST.find("<Cube time='2026-11-20'>").unwrap()];
        let err = parse_ecb_rates(truncated.as_bytes(), "ecb", at()).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        assert_eq!(
            parse_ecb_rates("<html>maintenance</html>".as_bytes(), "ecb", at()),
            Err(EcbError::Empty)
        );
        assert!(matches!(
            parse_ecb_rates(
                "<Cube time=\"2026-11-20\"><Cube currency=\"USD\" rate=\"1\"></Cube".as_bytes(),
                "ecb",
                at()
            ),
            Err(EcbError::Xml { .. })
        ));
    }
}
