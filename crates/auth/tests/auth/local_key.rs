//! The local signing key file: created once, private, shared by racing processes.

use std::sync::{Arc, Barrier};

use costwatch_auth::{AuthKeyError, LocalSigner};

#[test]
fn the_key_file_is_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalSigner::load_or_create(dir.path()).unwrap();
    let path = dir.path().join("auth/signing-key.p8");
    assert_eq!(first.path(), path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o077, 0, "key dir mode {dir_mode:o}");
    }
    let bytes = std::fs::read(&path).unwrap();
    let second = LocalSigner::load_or_create(dir.path()).unwrap();
    assert_eq!(first.kid(), second.kid());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("signing-key.p8")]);
}

#[tokio::test]
async fn a_reloaded_key_verifies_tokens_of_the_first() {
    use costwatch_ports::Authenticator as _;
    let dir = tempfile::tempdir().unwrap();
    let first = LocalSigner::load_or_create(dir.path()).unwrap();
    let token = first.mint(&crate::common::viewer(&["acme"])).unwrap();
    let second = LocalSigner::load_or_create(dir.path()).unwrap();
    assert!(second.verifier().authenticate(&token).await.is_ok());
}

#[test]
fn racing_creators_end_with_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let barrier = Arc::new(Barrier::new(6));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let data_dir = dir.path().to_path_buf();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                LocalSigner::load_or_create(&data_dir)
                    .unwrap()
                    .kid()
                    .to_owned()
            })
        })
        .collect();
    let kids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(kids.iter().all(|k| k == &kids[0]), "{kids:?}");
    let on_disk = LocalSigner::load_or_create(dir.path()).unwrap();
    assert_eq!(on_disk.kid(), kids[0]);
}

#[test]
fn a_corrupt_key_file_is_an_error_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth/signing-key.p8");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"not a key").unwrap();
    let err = LocalSigner::load_or_create(dir.path()).unwrap_err();
    assert!(matches!(err, AuthKeyError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"not a key");
}
