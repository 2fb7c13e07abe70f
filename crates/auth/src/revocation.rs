//! Revoked token ids (`jti`), kept in a plain text file: one id per line, `#` starts a comment.
//!
//! A file (rather than a table) because the operator's tool (`costwatch token revoke`) and every
//! server process on the host can share it without a database; servers notice a change by its
//! modification time and size, checked at most once per second so verification stays cheap.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// How often the file's metadata is looked at.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Why a jti could not be added to the revocation file.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// A token id must be one non-empty line without spaces, or the file would not read back.
    #[error("token id must be non-empty and contain no whitespace or '#'")]
    InvalidJti,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Appends `jti` to the revocation file at `path` (created if missing). Servers watching the
/// file refuse the token within about a second.
pub fn revoke(path: &Path, jti: &str) -> Result<(), RevokeError> {
    if jti.is_empty() || jti.contains(|c: char| c.is_whitespace() || c == '#') {
        return Err(RevokeError::InvalidJti);
    }
    let io = |source| RevokeError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    // A hand-edited file may lack its final newline; never glue the new id onto the last line.
    let len = file.metadata().map_err(io)?.len();
    let mut line = String::new();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::End(-1)).map_err(io)?;
        file.read_exact(&mut last).map_err(io)?;
        if last[0] != b'\n' {
            line.push('\n');
        }
    }
    line.push_str(jti);
    line.push('\n');
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Parses the file's text into the set of revoked ids.
fn parse(text: &str) -> HashSet<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The revocation list of one file, re-read when the file changes.
#[derive(Debug)]
pub(crate) struct RevocationList {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    revoked: HashSet<String>,
    /// (mtime, size) of the version read; `None` while the file does not exist.
    seen: Option<(SystemTime, u64)>,
    checked: Option<Instant>,
}

impl RevocationList {
    pub(crate) fn new(path: PathBuf) -> RevocationList {
        RevocationList {
            path,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether `jti` is revoked. `Err` when the file exists but cannot be read: the caller
    /// fails closed for new tokens (a revoked token must not slip through an I/O error).
    pub(crate) fn is_revoked(&self, jti: &str) -> Result<bool, String> {
        let mut state = match self.state.lock() {
            Ok(guard) => guard,
            // The state is a cache that is rebuilt from the file; a panic elsewhere does not
            // make it unsafe to use.
            Err(poisoned) => poisoned.into_inner(),
        };
        if state
            .checked
            .is_none_or(|at| at.elapsed() >= CHECK_INTERVAL)
        {
            let result = self.reload(&mut state);
            if let Err(reason) = result {
                // Checked again on the next call rather than a second later.
                state.checked = None;
                return Err(reason);
            }
            state.checked = Some(Instant::now());
        }
        Ok(state.revoked.contains(jti))
    }

    /// Whether `jti` is in the list as last read, without touching the file.
    pub(crate) fn known_revoked(&self, jti: &str) -> bool {
        match self.state.lock() {
            Ok(state) => state.revoked.contains(jti),
            Err(poisoned) => poisoned.into_inner().revoked.contains(jti),
        }
    }

    /// Re-reads the file when its modification time or size changed since the last read.
    fn reload(&self, state: &mut State) -> Result<(), String> {
        let path = &self.path;
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // No file: nothing revoked (yet).
                state.revoked.clear();
                state.seen = None;
                return Ok(());
            }
            Err(e) => return Err(format!("revocation file {}: {e}", path.display())),
        };
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        if state.seen == Some(stamp) {
            return Ok(());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("revocation file {}: {e}", path.display()))?;
        state.revoked = parse(&text);
        state.seen = Some(stamp);
        tracing::debug!(path = %path.display(), revoked = state.revoked.len(), "revocation list loaded");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_skips_comments_and_blank_lines() {
        let set = parse("# revoked\n\nabc\n  def  # leaked in a log\n#ghi\n");
        assert_eq!(set.len(), 2);
        assert!(set.contains("abc") && set.contains("def"));
    }

    #[test]
    fn revoke_refuses_ids_that_would_not_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revoked");
        for bad in ["", "a b", "a\nb", "a#b"] {
            assert!(matches!(revoke(&path, bad), Err(RevokeError::InvalidJti)));
        }
    }

    #[test]
    fn revoke_appends_on_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/revoked");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "first").unwrap();
        revoke(&path, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\n");
        let list = RevocationList::new(path);
        assert_eq!(list.is_revoked("second"), Ok(true));
        assert_eq!(list.is_revoked("third"), Ok(false));
    }
}
