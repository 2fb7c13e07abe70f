//! The anomaly detector (not built yet).
//!
//! It will consume the cost-update stream, model every cost series (seasonal decomposition,
//! robust residual scores, change points) and write anomalies to the store and the alerts topic.
//! Tracked by the anomaly-detection issue; `costwatch anomaly-detector` refuses to start until then.
