use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_default()
}

#[test]
fn minute_histories_are_capped_at_seven_days() {
    let week = TimeRange::new(at("2026-03-01T00:00:00Z"), at("2026-03-08T00:00:00Z")).ok();
    let more = TimeRange::new(at("2026-03-01T00:00:00Z"), at("2026-03-08T00:01:00Z")).ok();
    assert_eq!(
        week.map(|r| check_buckets(r, Granularity::Minute)),
        Some(Ok(()))
    );
    let err = more.map(|r| check_buckets(r, Granularity::Minute));
    assert_eq!(
        err.as_ref()
            .and_then(|e| e.as_ref().err())
            .and_then(QueryError::field),
        Some("granularity")
    );
    assert_eq!(
        more.map(|r| check_buckets(r, Granularity::Hour)),
        Some(Ok(()))
    );
}

#[test]
fn label_grouping_needs_a_key() {
    let err = dimensions(&[DimensionKind::Label], None, "labelKey").err();
    assert_eq!(err.as_ref().and_then(QueryError::field), Some("labelKey"));
    let ok = dimensions(
        &[DimensionKind::Category, DimensionKind::Label],
        Some("team"),
        "labelKey",
    );
    assert_eq!(
        ok,
        Ok(vec![Dimension::Category, Dimension::Label("team".into())])
    );
    assert_eq!(
        "sub_kind".parse::<DimensionKind>(),
        Ok(DimensionKind::SubKind)
    );
    assert!("region".parse::<DimensionKind>().is_err());
}

#[test]
fn overflow_is_an_error_not_a_panic() {
    // The domain reports overflow as an error (see its query tests); it surfaces as internal.
    let r: Result<(), _> = compute(|| Err(FxError::Overflow));
    assert!(matches!(r, Err(QueryError::Internal(m)) if m.contains("overflow")));
}
