use super::*;
use proptest::prelude::*;

fn t(raw: &str) -> TenantId {
    TenantId::parse(raw).unwrap()
}

fn principal(role: Role, tenants: &[&str]) -> Principal {
    let tenants: Vec<String> = tenants.iter().map(|s| s.to_string()).collect();
    Principal::from_claims("user-1", role.as_str(), &tenants, None).unwrap()
}

const ACTIONS: [Action; 6] = [
    Action::ReadCosts,
    Action::ManageTenant,
    Action::Export,
    Action::Ingest,
    Action::Administer,
    Action::ViewSensitive,
];

#[test]
fn role_names_round_trip_and_unknown_names_are_refused() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
    }
    let err = "owner".parse::<Role>().unwrap_err();
    assert!(err.contains("\"owner\" is not a role"), "{err}");
}

#[test]
fn the_role_table_is_exactly_the_documented_one() {
    use Action::*;
    let expected: &[(Role, &[Action])] = &[
        (
            Role::Admin,
            &[
                ReadCosts,
                ManageTenant,
                Export,
                Ingest,
                Administer,
                ViewSensitive,
            ],
        ),
        (
            Role::Finance,
            &[ReadCosts, ManageTenant, Export, ViewSensitive],
        ),
        (
            Role::TenantAdmin,
            &[ReadCosts, ManageTenant, Export, ViewSensitive],
        ),
        (Role::TenantViewer, &[ReadCosts]),
        (Role::Ingest, &[Ingest]),
    ];
    for (role, allowed) in expected {
        let p = principal(*role, &["acme"]);
        for action in ACTIONS {
            let got = p.authorize(action, Some(&t("acme"))).is_ok();
            assert_eq!(got, allowed.contains(&action), "{role} {action:?}");
        }
    }
}

#[test]
fn tenant_roles_are_confined_to_their_tenants() {
    let viewer = principal(Role::TenantViewer, &["acme", "beta"]);
    assert!(
        viewer
            .authorize(Action::ReadCosts, Some(&t("acme")))
            .is_ok()
    );
    assert!(
        viewer
            .authorize(Action::ReadCosts, Some(&t("beta")))
            .is_ok()
    );
    let denied = viewer
        .authorize(Action::ReadCosts, Some(&t("gamma")))
        .unwrap_err();
    assert_eq!(denied.reason, "not authorized for tenant \"gamma\"");
    let denied = viewer
        .authorize(Action::ManageTenant, Some(&t("acme")))
        .unwrap_err();
    assert_eq!(
        denied.reason,
        "role tenant-viewer may not change tenant settings"
    );
}

#[test]
fn admin_and_finance_span_every_tenant_whatever_the_claim_says() {
    for role in [Role::Admin, Role::Finance] {
        let p = principal(role, &["acme"]);
        assert_eq!(p.tenants, TenantScope::All);
        assert!(p.authorize(Action::ReadCosts, Some(&t("zeta"))).is_ok());
    }
}

#[test]
fn claims_are_validated_naming_the_field() {
    let err = Principal::from_claims("u", "tenant-viewer", &[], None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tenants: tenant-viewer needs at least one tenant"
    );
    let err = Principal::from_claims(
        "u",
        "tenant-admin",
        &["ok".into(), "bad tenant".into()],
        None,
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("tenants[1]: "), "{err}");
    let err = Principal::from_claims(" ", "admin", &[], None).unwrap_err();
    assert_eq!(err.to_string(), "sub: must not be empty");
    let err = Principal::from_claims("u", "root", &[], None).unwrap_err();
    assert!(err.to_string().contains("is not a role"), "{err}");
}

#[test]
fn requested_tenants_are_parsed_or_refused_by_scope() {
    let viewer = principal(Role::TenantViewer, &["acme"]);
    assert!(
        viewer
            .authorize_requested(Action::ReadCosts, Some("acme"))
            .is_ok()
    );
    let denied = viewer
        .authorize_requested(Action::ReadCosts, Some("bad tenant"))
        .unwrap_err();
    assert_eq!(denied.reason, "not authorized for tenant \"bad tenant\"");
    let denied = viewer
        .authorize_requested(Action::ReadCosts, None)
        .unwrap_err();
    assert_eq!(denied.reason, "tenant must be given");
    // Spanning every tenant: only the role is checked; the handler names the bad input.
    let finance = principal(Role::Finance, &[]);
    assert!(
        finance
            .authorize_requested(Action::ReadCosts, Some("bad tenant"))
            .is_ok()
    );
    assert!(finance.authorize_requested(Action::ReadCosts, None).is_ok());
    assert!(
        finance
            .authorize_requested(Action::Administer, None)
            .is_err()
    );
}

#[test]
fn visible_tenants_filters_in_order() {
    let viewer = principal(Role::TenantViewer, &["beta", "acme"]);
    let seen = viewer.visible_tenants(vec!["acme", "beta", "gamma", "not valid!"]);
    assert_eq!(seen, vec!["acme", "beta"]);
    let admin = Principal::local_admin();
    assert_eq!(admin.visible_tenants(vec!["x", "y"]), vec!["x", "y"]);
}

#[test]
fn expiry_is_inclusive_of_the_instant() {
    let exp = DateTime::from_timestamp(1_000, 0).unwrap();
    let p = Principal {
        expires_at: Some(exp),
        ..Principal::local_admin()
    };
    assert!(!p.expired(DateTime::from_timestamp(999, 0).unwrap()));
    assert!(p.expired(exp));
    assert!(!Principal::local_admin().expired(exp));
}

fn tenant_name() -> impl Strategy<Value = String> {
    "[a-d]{1,2}"
}

proptest! {
    /// A tenant-scoped principal is allowed for a tenant iff the tenant is in its claim and
    /// its role allows the action — never by accident for another tenant.
    #[test]
    fn no_tenant_leaks(
        claimed in prop::collection::btree_set(tenant_name(), 1..4),
        asked in tenant_name(),
        role in prop::sample::select(vec![Role::TenantAdmin, Role::TenantViewer, Role::Ingest]),
        action in prop::sample::select(ACTIONS.to_vec()),
    ) {
        let claims: Vec<String> = claimed.iter().cloned().collect();
        let p = Principal::from_claims("u", role.as_str(), &claims, None).unwrap();
        let ok = p.authorize(action, Some(&t(&asked))).is_ok();
        prop_assert_eq!(ok, claimed.contains(&asked) && role.allows(action));
    }
}
