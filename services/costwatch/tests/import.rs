//! `costwatch import` end to end: the embedded platform runs in-process, the real binary imports
//! the shared FOCUS sample over HTTP, and the totals Costwatch serves are reconciled exactly with
//! sums computed independently from the file (plain csv reading, no importer code).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use costwatch::{Platform, UpConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SAMPLE: &str = "/work/shared/data/focus_sample_data/focus_sample.csv";
const RANGE: (&str, &str) = ("2024-08-01T00:00:00Z", "2024-11-01T00:00:00Z");

struct App {
    platform: Option<Platform>,
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_path_buf(),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        // These suites poll in tight loops; the limiter has its own tests.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform starts");
    App {
        base: format!("http://{}", platform.http_addr),
        platform: Some(platform),
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl App {
    /// Runs the real binary (blocking, so off the runtime the server runs on).
    async fn import(&self, file: &Path, tenant: &str) -> Output {
        self.import_as(&["focus"], file, tenant).await
    }

    /// `costwatch import <how…> FILE --tenant T --server URL`, e.g. `how = ["mapped",
    /// "--mapping", "m.toml"]`.
    async fn import_as(&self, how: &[&str], file: &Path, tenant: &str) -> Output {
        let (file, tenant, base) = (file.to_path_buf(), tenant.to_string(), self.base.clone());
        let how: Vec<String> = how.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_costwatch"))
                .arg("import")
                .args(&how)
                .arg(&file)
                .args(["--tenant", &tenant, "--server", &base])
                .env("COSTWATCH_LOG", "warn")
                .output()
                .expect("run costwatch import")
        })
        .await
        .expect("join")
    }

    async fn graphql(&self, query: &str, variables: Value) -> Value {
        let v: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("graphql")
            .json()
            .await
            .expect("json");
        assert!(v.get("errors").is_none(), "{v}");
        v
    }

    async fn events(&self, tenant: &str) -> u64 {
        let v = self
            .graphql(
                "query($t:String!,$f:DateTime!,$to:DateTime!){costSummary(tenant:$t,range:{from:$f,to:$to}){events}}",
                json!({"t": tenant, "f": RANGE.0, "to": RANGE.1}),
            )
            .await;
        v["data"]["costSummary"]["events"]
            .as_u64()
            .unwrap_or_else(|| panic!("{v}"))
    }

    async fn wait_for_events(&self, tenant: &str, expected: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let got = self.events(tenant).await;
            if got == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{tenant} stayed at {got} events, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Posts one event for another tenant and waits until it is counted: the embedded log has one
    /// partition read in order, so everything sent before it has been aggregated by then.
    async fn barrier(&self, name: &str) {
        let event = json!([{
            "id": name, "tenant": name, "timestamp": "2024-09-15T00:00:00Z", "category": "other",
            "provider": "test", "service": "barrier", "resource": "r", "metric": "m",
            "quantity": "1", "unit": "u", "cost": {"amount": "1", "currency": "USD"}
        }]);
        let resp = self
            .client
            .post(format!("{}/v1/events", self.base))
            .json(&event)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status().as_u16(), 202);
        self.wait_for_events(name, 1).await;
    }

    /// Costwatch's daily totals per (billing account, day, currency), read with a label filter.
    async fn daily_totals(
        &self,
        tenant: &str,
        accounts: &[(String, String)],
    ) -> BTreeMap<(String, String, String), Decimal> {
        let mut out = BTreeMap::new();
        for (account, currency) in accounts {
            let v = self
                .graphql(
                    "query($t:String!,$f:DateTime!,$to:DateTime!,$a:String!,$c:String){
                       costHistory(tenant:$t,range:{from:$f,to:$to},granularity:DAY,
                         filter:{labels:[{key:\"billing_account\",value:$a}]},currency:$c)
                       { bucket amount { amount currency } } }",
                    json!({"t": tenant, "f": RANGE.0, "to": RANGE.1, "a": account, "c": currency}),
                )
                .await;
            for point in v["data"]["costHistory"].as_array().expect("points") {
                let amount: Decimal = point["amount"]["amount"]
                    .as_str()
                    .expect("amount")
                    .parse()
                    .expect("decimal");
                if amount.is_zero() {
                    continue;
                }
                let day = point["bucket"].as_str().expect("bucket")[..10].to_string();
                assert_eq!(
                    point["amount"]["currency"].as_str(),
                    Some(currency.as_str())
                );
                out.insert((account.clone(), day, currency.clone()), amount);
            }
        }
        out
    }
}

/// BilledCost summed per (BillingAccountId, day of ChargePeriodStart, BillingCurrency), straight
/// from the CSV; zero sums dropped (a query cannot tell them from empty days).
fn expected_totals(path: &Path) -> (BTreeMap<(String, String, String), Decimal>, u64) {
    let mut reader = csv::Reader::from_path(path).expect("open sample");
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (cost, account, start, currency) = (
        col("BilledCost"),
        col("BillingAccountId"),
        col("ChargePeriodStart"),
        col("BillingCurrency"),
    );
    let mut sums: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
    let mut rows = 0;
    for record in reader.records() {
        let r = record.expect("record");
        rows += 1;
        let key = (
            r[account].to_string(),
            r[start][..10].to_string(),
            r[currency].to_string(),
        );
        *sums.entry(key).or_default() += r[cost].parse::<Decimal>().expect("BilledCost");
    }
    sums.retain(|_, v| !v.is_zero());
    (sums, rows)
}

fn accounts(expected: &BTreeMap<(String, String, String), Decimal>) -> Vec<(String, String)> {
    let mut a: Vec<_> = expected
        .keys()
        .map(|(acc, _, cur)| (acc.clone(), cur.clone()))
        .collect();
    a.dedup();
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_the_focus_sample_reconciles_exactly_and_is_idempotent() {
    let sample = PathBuf::from(SAMPLE);
    if !sample.exists() {
        eprintln!("skipped: {SAMPLE} is not present");
        return;
    }
    let (expected, rows) = expected_totals(&sample);
    assert!(expected.len() > 30, "the sample spans many account-days");
    let app = start().await;

    let out = app.import(&sample, "acme").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("{rows} rows sent")), "{stdout}");
    app.wait_for_events("acme", rows).await;
    let first = app.daily_totals("acme", &accounts(&expected)).await;
    assert_eq!(first, expected);

    // Importing the same file again is acknowledged and changes nothing.
    let out = app.import(&sample, "acme").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.barrier("barrier-1").await;
    assert_eq!(app.events("acme").await, rows);
    assert_eq!(
        app.daily_totals("acme", &accounts(&expected)).await,
        expected
    );

    // One broken row: a precise error, and nothing of the file is ingested.
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.csv");
    break_row(&sample, &broken, 500, "BilledCost", "12,5");
    let out = app.import(&broken, "broken").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("row 500 (line 501), column BilledCost: \"12,5\" is not a decimal"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    app.barrier("barrier-2").await;
    assert_eq!(app.events("broken").await, 0);

    if let Some(p) = app.platform {
        p.stop().await;
    }
}

/// A custom provider's CSV through the documented example mapping: every row arrives once, with
/// its exact cost, and importing it again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_a_mapped_custom_provider_file_is_exact_and_idempotent() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let mapping = examples.join("custom-provider.toml");
    let data = examples.join("custom-provider.csv");
    let mapping = mapping.to_str().expect("utf-8 path");
    let how = ["mapped", "--mapping", mapping];
    let app = start().await;

    let out = app.import_as(&how, &data, "acme").await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("5 rows sent"), "{stdout}");
    app.wait_for_events("acme", 5).await;
    let total = |v: Value| v["data"]["costSummary"]["total"].clone();
    let query = "query($t:String!,$f:DateTime!,$to:DateTime!){costSummary(tenant:$t,\
                 range:{from:$f,to:$to},currency:\"EUR\"){events total{amount currency}}}";
    let vars = json!({"t": "acme", "f": RANGE.0, "to": RANGE.1});
    let first = total(app.graphql(query, vars.clone()).await);
    // 43.20 + 4.40 + 57.60 + 1.50 + 19.00, summed from the file by hand.
    let amount: Decimal = first["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{first}"));
    assert_eq!(amount, "125.70".parse::<Decimal>().expect("decimal"));

    let out = app.import_as(&how, &data, "acme").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.barrier("barrier-mapped").await;
    assert_eq!(app.events("acme").await, 5);
    assert_eq!(total(app.graphql(query, vars).await), first);

    if let Some(p) = app.platform {
        p.stop().await;
    }
}

/// A broken mapping stops the import before any file is read, naming each faulty key.
#[test]
fn a_bad_mapping_is_refused_naming_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = dir.path().join("bad.toml");
    std::fs::write(
        &mapping,
        "id_prefix = \"x\"\n[columns]\ntimestamp = \"Date\"\namount = \"Cost\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_costwatch"))
        .args(["import", "mapped", "--mapping"])
        .arg(&mapping)
        .arg(dir.path().join("absent.csv"))
        .args(["--tenant", "acme", "--server", "http://127.0.0.1:9"])
        .output()
        .expect("run costwatch import");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("columns.amount: unknown field `amount`"),
        "{stderr}"
    );
}

/// Copies `from` with one data row's column replaced.
fn break_row(from: &Path, to: &Path, row: usize, column: &str, value: &str) {
    let mut reader = csv::Reader::from_path(from).expect("open");
    let header = reader.headers().expect("header").clone();
    let position = header.iter().position(|h| h == column).expect("column");
    let mut writer = csv::Writer::from_path(to).expect("create");
    writer.write_record(&header).expect("write");
    for (i, record) in reader.records().enumerate() {
        let record = record.expect("record");
        let fields: Vec<&str> = record
            .iter()
            .enumerate()
            .map(|(j, f)| {
                if i + 1 == row && j == position {
                    value
                } else {
                    f
                }
            })
            .collect();
        writer.write_record(fields).expect("write");
    }
    writer.flush().expect("flush");
}
