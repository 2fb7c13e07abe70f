use costwatch_ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("detector: {0}")]
    Detector(String),
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl From<costwatch_analytics::AnalyticsError> for Error {
    fn from(e: costwatch_analytics::AnalyticsError) -> Self {
        Error::Detector(e.to_string())
    }
}
