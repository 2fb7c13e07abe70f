//! Opening billing files: plain CSV, gzip or Parquet (each detected by its magic bytes, not the
//! file name).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Every Parquet file starts (and ends) with these four bytes.
const PARQUET_MAGIC: [u8; 4] = *b"PAR1";

/// Counts the bytes read from the underlying (compressed) file, for progress reporting.
#[derive(Debug, Clone, Default)]
pub struct BytesRead(Arc<AtomicU64>);

impl BytesRead {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// For readers that do not stream the file (Parquet): their estimate of the bytes consumed.
    pub(crate) fn set(&self, bytes: u64) {
        self.0.store(bytes, Ordering::Relaxed);
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

/// An opened billing file: a byte stream (CSV, plain or gzip) or a Parquet file, which is read
/// by seeking (its schema is in a footer at the end), so it stays a [`File`].
pub enum Input {
    Stream(Box<dyn Read>),
    /// The file and the counter its reader advances (an estimate: see the `parquet` module).
    Parquet(File, BytesRead),
}

/// Opens a file of any supported kind; returns it and a counter of file bytes consumed.
pub fn open_any(path: &Path) -> io::Result<(Input, BytesRead)> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.seek(SeekFrom::Start(0))?;
    let count = BytesRead::default();
    if filled == magic.len() && magic == PARQUET_MAGIC {
        return Ok((Input::Parquet(file, count.clone()), count));
    }
    let reader = decompressing(Counting {
        inner: file,
        count: count.clone(),
    })?;
    Ok((Input::Stream(reader), count))
}
