//! Opening billing files: plain CSV or gzip (detected by its magic bytes, not the file name).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Counts the bytes read from the underlying (compressed) file, for progress reporting.
#[derive(Debug, Clone, Default)]
pub struct BytesRead(Arc<AtomicU64>);

impl BytesRead {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    count: BytesRead,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Wraps a byte stream, decompressing it when it starts with the gzip magic bytes.
/// Multi-member gzip (concatenated `.gz` parts, as some exporters write) is read whole.
pub fn decompressing<R: Read + 'static>(inner: R) -> io::Result<Box<dyn Read>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, inner);
    let gzip = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
    Ok(if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    })
}

/// Opens a file for streaming; returns the reader and a counter of file bytes consumed.
pub fn open(path: &Path) -> io::Result<(Box<dyn Read>, BytesRead)> {
    let file = File::open(path)?;
    let count = BytesRead::default();
    let reader = decompressing(Counting {
        inner: file,
        count: count.clone(),
    })?;
    Ok((reader, count))
}
