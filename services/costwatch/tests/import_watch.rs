//! The import folder (`import_dir`) end to end: the embedded platform runs in-process, billing
//! files are copied into `<import_dir>/<tenant>/`, and the totals Costwatch serves are reconciled
//! exactly with the BilledCost sum computed independently from the file (plain csv reading).

use std::path::{Path, PathBuf};
use std::time::Duration;

use costwatch::{Platform, UpConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../crates/billing-import/tests/fixtures"
);
const RANGE: (&str, &str) = ("2024-08-01T00:00:00Z", "2024-11-01T00:00:00Z");

struct App {
    platform: Option<Platform>,
    base: String,
    client: reqwest::Client,
    import_dir: PathBuf,
    _dir: tempfile::TempDir,
}

async fn start() -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let import_dir = dir.path().join("import");
    std::fs::create_dir(&import_dir).expect("import dir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_path_buf(),
        demo: false,
        import_dir: Some(import_dir.clone()),
        import_scan_secs: 1,
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
        import_dir,
        _dir: dir,
    }
}

impl App {
    async fn summary(&self, tenant: &str) -> (u64, Decimal) {
        let v: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({
                "query": "query($t:String!,$f:DateTime!,$to:DateTime!){costSummary(tenant:$t,range:{from:$f,to:$to},currency:\"USD\"){events total{amount currency}}}",
                "variables": {"t": tenant, "f": RANGE.0, "to": RANGE.1},
            }))
            .send()
            .await
            .expect("graphql")
            .json()
            .await
            .expect("json");
        assert!(v.get("errors").is_none(), "{v}");
        let s = &v["data"]["costSummary"];
        let events = s["events"].as_u64().unwrap_or_else(|| panic!("{v}"));
        let total = s["total"]["amount"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .parse()
            .expect("decimal");
        (events, total)
    }

    async fn wait_for_summary(&self, tenant: &str, expected: (u64, Decimal)) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.summary(tenant).await;
            if got == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{tenant} stayed at {got:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Posts one event for another tenant and waits until it is counted: the embedded log has one
    /// partition read in order, so everything ingested before it has been aggregated by then.
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
        self.wait_for_summary(name, (1, Decimal::ONE)).await;
    }
}

/// Polls (20 s at most) until `path` exists.
async fn wait_for_file(path: &Path) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} did not appear",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The file's rows and the sum of its BilledCost column, straight from the CSV.
fn billed_cost(path: &Path) -> (u64, Decimal) {
    let mut reader = csv::Reader::from_path(path).expect("open fixture");
    let header = reader.headers().expect("header").clone();
    let cost = header
        .iter()
        .position(|h| h == "BilledCost")
        .expect("BilledCost");
    let (mut rows, mut sum) = (0u64, Decimal::ZERO);
    for record in reader.records() {
        rows += 1;
        sum += record.expect("record")[cost]
            .parse::<Decimal>()
            .expect("BilledCost");
    }
    (rows, sum)
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_files_are_imported_once_and_broken_ones_set_aside() {
    let sample = Path::new(FIXTURES).join("focus_1_2.csv");
    let broken = Path::new(FIXTURES).join("focus_broken.csv");
    let (rows, expected) = billed_cost(&sample);
    assert!(rows >= 2 && !expected.is_zero(), "{rows} rows, {expected}");
    let app = start().await;
    let acme = app.import_dir.join("acme");
    std::fs::create_dir(&acme).expect("tenant folder");

    // A folder whose name is not a tenant id: reported, and its file is left alone.
    let bad = app.import_dir.join("not a tenant!");
    std::fs::create_dir(&bad).expect("bad folder");
    std::fs::copy(&sample, bad.join("focus.csv")).expect("copy");

    // First drop: imported, moved to done/, totals reconcile exactly.
    std::fs::copy(&sample, acme.join("focus.csv")).expect("copy");
    wait_for_file(&acme.join("done/focus.csv")).await;
    assert!(!acme.join("focus.csv").exists());
    app.wait_for_summary("acme", (rows, expected)).await;

    // The same file again under a new name, then under the same name: both end in done/
    // (the second with a timestamp suffix) and nothing is counted twice.
    std::fs::copy(&sample, acme.join("again.csv")).expect("copy");
    wait_for_file(&acme.join("done/again.csv")).await;
    std::fs::copy(&sample, acme.join("focus.csv")).expect("copy");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while names(&acme.join("done")).len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "third copy not done"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = names(&acme.join("done"));
    let suffixed = &done[1];
    assert!(
        done[0] == "again.csv"
            && done[2] == "focus.csv"
            && suffixed.starts_with("focus.")
            && suffixed.ends_with(".csv"),
        "{done:?}"
    );
    app.barrier("barrier-1").await;
    assert_eq!(app.summary("acme").await, (rows, expected));

    // A broken file: failed/ with its errors, and none of its rows counted.
    std::fs::copy(&broken, acme.join("broken.csv")).expect("copy");
    wait_for_file(&acme.join("failed/broken.csv.errors.txt")).await;
    assert!(acme.join("failed/broken.csv").exists());
    assert!(!acme.join("broken.csv").exists());
    let errors = std::fs::read_to_string(acme.join("failed/broken.csv.errors.txt")).expect("read");
    assert!(
        errors.contains("broken.csv: row 2 (line 3), column BilledCost: \"12,5\""),
        "{errors}"
    );
    app.barrier("barrier-2").await;
    assert_eq!(app.summary("acme").await, (rows, expected));

    // A CUR export is recognised by its header; a file that is neither is set aside.
    let cur = Path::new(FIXTURES).join("cur2.csv");
    let cur_rows = csv::Reader::from_path(&cur).expect("cur").records().count() as u64;
    let globex = app.import_dir.join("globex");
    std::fs::create_dir(&globex).expect("tenant folder");
    std::fs::copy(&cur, globex.join("cur2.csv")).expect("copy");
    std::fs::write(acme.join("notes.csv"), "a,b\n1,2\n").expect("write");
    wait_for_file(&globex.join("done/cur2.csv")).await;
    wait_for_file(&acme.join("failed/notes.csv.errors.txt")).await;
    let errors = std::fs::read_to_string(acme.join("failed/notes.csv.errors.txt")).expect("read");
    assert!(errors.contains("neither FOCUS nor CUR"), "{errors}");
    assert!(errors.contains("as focus: header: BilledCost"), "{errors}");
    app.barrier("barrier-3").await;
    assert_eq!(app.summary("globex").await.0, cur_rows);
    assert_eq!(app.summary("acme").await, (rows, expected));

    // Many scans later the bad folder is untouched, and the scanner names the problem.
    assert_eq!(names(&bad), vec!["focus.csv".to_string()]);
    let folders = costwatch::import_watch::tenant_folders(&app.import_dir).expect("list");
    let reason = folders
        .iter()
        .find(|(p, _)| p == &bad)
        .and_then(|(_, t)| t.as_ref().err())
        .expect("the bad folder is reported");
    assert!(reason.contains("may contain only"), "{reason}");

    if let Some(p) = app.platform {
        p.stop().await;
    }
}

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples");

/// EUR total and events of `tenant` over RANGE.
async fn eur_total(app: &App, tenant: &str) -> (u64, Decimal) {
    let v: Value = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({
            "query": "query($t:String!,$f:DateTime!,$to:DateTime!){costSummary(tenant:$t,range:{from:$f,to:$to},currency:\"EUR\"){events total{amount}}}",
            "variables": {"t": tenant, "f": RANGE.0, "to": RANGE.1},
        }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json");
    let s = &v["data"]["costSummary"];
    let total = s["total"]["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    (
        s["events"].as_u64().unwrap_or_default(),
        total.parse().expect("decimal"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_folder_mapping_imports_a_custom_provider_csv() {
    let app = start().await;
    let folder = app.import_dir.join("acme");
    std::fs::create_dir(&folder).expect("tenant folder");
    let csv = Path::new(EXAMPLES).join("custom-provider.csv");
    let mapping = Path::new(EXAMPLES).join("custom-provider.toml");

    // A broken mapping: the file is set aside with the mapping's key named.
    std::fs::write(
        folder.join(".mapping.toml"),
        "id_prefix = \"x\"\n[columns]\ncost = \"Amount\"\n",
    )
    .expect("write mapping");
    std::fs::copy(&csv, folder.join("first.csv")).expect("copy");
    wait_for_file(&folder.join("failed/first.csv.errors.txt")).await;
    let errors = std::fs::read_to_string(folder.join("failed/first.csv.errors.txt")).expect("read");
    assert!(
        errors.contains(".mapping.toml") && errors.contains("timestamp"),
        "{errors}"
    );

    // Fixed: the same rows are imported through it, exactly, and only once.
    std::fs::copy(&mapping, folder.join(".mapping.toml")).expect("copy mapping");
    std::fs::copy(&csv, folder.join("second.csv")).expect("copy");
    wait_for_file(&folder.join("done/second.csv")).await;
    let expected = (5, "125.70".parse::<Decimal>().expect("decimal"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while eur_total(&app, "acme").await != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            eur_total(&app, "acme").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::copy(&csv, folder.join("third.csv")).expect("copy");
    wait_for_file(&folder.join("done/third.csv")).await;
    app.barrier("barrier-m").await;
    assert_eq!(eur_total(&app, "acme").await, expected);
    if let Some(p) = app.platform {
        p.stop().await;
    }
}
