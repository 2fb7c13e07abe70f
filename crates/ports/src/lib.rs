//! Ports: the small traits every adapter implements (embedded SQLite now; Kafka and ScyllaDB in
//! distributed mode), plus the contract test suites each implementation must pass.

pub mod alert_contract;
pub mod alerts;
pub mod annotation;
pub mod anomalies;
pub mod anomaly_contract;
pub mod api_keys;
pub mod audit;
pub mod audit_contract;
pub mod auth;
pub mod bus;
pub mod contract;
pub mod erasure;
pub mod erasure_contract;
pub mod fx;
pub mod fx_contract;
pub mod retention;
pub mod retention_contract;
pub mod store;

pub use alerts::{AlertStore, AlertStream, DeliveryRecord, DeliveryView, Outboxed};
pub use annotation::AnnotationStore;
pub use anomalies::{AnomalyRecord, AnomalyStore, Feedback, SeriesState, anomaly_id};
pub use api_keys::{ApiKeyStore, CreateKeyError, MemoryApiKeys};
pub use audit::{AuditQuery, AuditStore, Verified, VerifyError, verify_store};
pub use auth::{AuthError, Authenticator, NoAuth};
pub use bus::{BusError, CostUpdate, CostUpdates, DeadLetterLog, LogRecord, UsageLog};
pub use erasure::{Erased, ErasureError, TenantData, TenantErasure};
pub use fx::FxRateStore;
pub use retention::{Expired, RetentionSweep, SweepReport, TenantRetention};
pub use store::{Commit, CostStore, DeadLetter, StoreError};
