//! UTF-16 text, decoded to UTF-8 as it is read.
//!
//! Windows PowerShell 5.1 writes UTF-16LE with a byte order mark for `>` and
//! `Out-File`, which is how many people save `az monitor log-analytics
//! query` output. A file that starts with a UTF-16 BOM is decoded in
//! chunks, so the reader after it sees UTF-8 and holds no more than it
//! would: lines keep their numbers (a UTF-16 newline is one `\n`). An
//! unpaired surrogate cannot be UTF-8: it is written as its WTF-8 bytes,
//! which no UTF-8 check accepts, so its record is rejected as
//! `invalid-utf8` and only that record is lost.

use std::io::{self, Read};

/// Bytes of UTF-16 read from the inner reader at a time.
const CHUNK_BYTES: usize = 64 << 10;

/// The byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The encoding's name, as `iconv -f` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Endian::Little => "UTF-16LE",
            Endian::Big => "UTF-16BE",
        }
    }

    fn unit(self, pair: [u8; 2]) -> u32 {
        u32::from(match self {
            Endian::Little => u16::from_le_bytes(pair),
            Endian::Big => u16::from_be_bytes(pair),
        })
    }
}

/// The byte order a UTF-16 byte order mark at the start of `head` gives.
pub fn bom(head: &[u8]) -> Option<Endian> {
    match head {
        // FF FE 00 00 is UTF-32LE's mark, which no export tool writes for
        // logs; it is left to the format detection (a binary file).
        [0xFF, 0xFE, 0, 0, ..] => None,
        [0xFF, 0xFE, ..] => Some(Endian::Little),
        [0xFE, 0xFF, ..] => Some(Endian::Big),
        _ => None,
    }
}

/// Whether `head` (no BOM) looks like UTF-16 text: its first characters
/// are ASCII, each beside a NUL byte (`[\0{\0` is `[{` in UTF-16LE).
pub fn without_bom(head: &[u8]) -> Option<Endian> {
    let sample = &head[..head.len().min(64) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = || sample.chunks_exact(2);
    let ascii = |b: u8| b != 0 && b.is_ascii();
    if pairs().all(|p| ascii(p[0]) && p[1] == 0) {
        Some(Endian::Little)
    } else if pairs().all(|p| p[0] == 0 && ascii(p[1])) {
        Some(Endian::Big)
    } else {
        None
    }
}

/// A reader of UTF-16 text (after its BOM) that yields UTF-8.
pub struct Decoder<R> {
    inner: R,
    endian: Endian,
    /// Bytes read and not yet decoded: an odd byte, a high surrogate
    /// waiting for its pair.
    raw: Vec<u8>,
    chunk: Box<[u8]>,
    /// Decoded bytes not yet handed out, from `at`.
    out: Vec<u8>,
    at: usize,
    eof: bool,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, endian: Endian) -> Decoder<R> {
        Decoder {
            inner,
            endian,
            raw: Vec::new(),
            chunk: vec![0; CHUNK_BYTES].into_boxed_slice(),
            out: Vec::new(),
            at: 0,
            eof: false,
        }
    }

    /// Decodes the whole code units in `raw` into `out`, keeping a cut
    /// surrogate pair (or odd byte) for the next chunk unless at the end.
    fn decode(&mut self) {
        let raw = &self.raw;
        let unit = |i: usize| self.endian.unit([raw[i], raw[i + 1]]);
        let mut i = 0;
        while i + 1 < raw.len() {
            let u = unit(i);
            let code = match u {
                0..0x80 => {
                    self.out.push(u as u8);
                    i += 2;
                    continue;
                }
                0xD800..0xDC00 if i + 3 < raw.len() => {
                    let low = unit(i + 2);
                    if (0xDC00..0xE000).contains(&low) {
                        i += 2;
                        0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        u
                    }
                }
                // The pair's second half is in the next chunk.
                0xD800..0xDC00 if !self.eof => break,
                _ => u,
            };
            i += 2;
            match char::from_u32(code) {
                Some(c) => {
                    let mut utf8 = [0; 4];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
                // A lone surrogate: its WTF-8 bytes, which are not UTF-8.
                None => self.out.extend_from_slice(&[
                    0xE0 | (code >> 12) as u8,
                    0x80 | ((code >> 6) & 0x3F) as u8,
                    0x80 | (code & 0x3F) as u8,
                ]),
            }
        }
        if self.eof && i < raw.len() {
            // An odd last byte: half a character, not UTF-8 either.
            self.out.push(0xFF);
            i = raw.len();
        }
        self.raw.drain(..i);
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.out.len() {
                let n = buf.len().min(self.out.len() - self.at);
                buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.eof {
                return Ok(0);
            }
            self.out.clear();
            self.at = 0;
            let n = self.inner.read(&mut self.chunk)?;
            if n == 0 {
                self.eof = true;
            }
            self.raw.extend_from_slice(&self.chunk[..n]);
            self.decode();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, endian: Endian) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| match endian {
                Endian::Little => u.to_le_bytes(),
                Endian::Big => u.to_be_bytes(),
            })
            .collect()
    }

    /// A reader that hands out one byte per read: every cut is tried.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = *first;
            self.0 = rest;
            Ok(1)
        }
    }

    fn decoded(bytes: &[u8], endian: Endian) -> Vec<u8> {
        let mut out = Vec::new();
        Decoder::new(Trickle(bytes), endian)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn decodes_both_byte_orders_across_every_cut() {
        let text = "{\"a\": \"Grüße 🔑 ключ\"}\r\n{\"b\": 1}\n";
        for endian in [Endian::Little, Endian::Big] {
            assert_eq!(decoded(&encode(text, endian), endian), text.as_bytes());
        }
    }

    #[test]
    fn a_lone_surrogate_or_an_odd_byte_is_not_utf8() {
        let mut bytes = encode("{\"a\": \"", Endian::Little);
        bytes.extend_from_slice(&0xD83Du16.to_le_bytes());
        bytes.extend(encode("\"}\n{\"b\": 1}\n", Endian::Little));
        let out = decoded(&bytes, Endian::Little);
        let mut lines = out.split(|&b| b == b'\n');
        assert!(std::str::from_utf8(lines.next().unwrap()).is_err());
        assert_eq!(lines.next().unwrap(), b"{\"b\": 1}");

        let mut odd = encode("{}", Endian::Big);
        odd.push(b'x');
        assert!(std::str::from_utf8(&decoded(&odd, Endian::Big)).is_err());
        // A high surrogate at the very end, with nothing after it.
        let mut cut = encode("{}", Endian::Big);
        cut.extend_from_slice(&0xD83Du16.to_be_bytes());
        assert!(std::str::from_utf8(&decoded(&cut, Endian::Big)).is_err());
    }

    #[test]
    fn tells_utf16_by_its_mark_or_its_nul_bytes() {
        assert_eq!(bom(b"\xFF\xFE[\0"), Some(Endian::Little));
        assert_eq!(bom(b"\xFE\xFF\0["), Some(Endian::Big));
        assert_eq!(bom(b"\xFF\xFE\0\0"), None);
        assert_eq!(bom(b"[{}]"), None);
        let le = encode("[{\"time\": 1}]", Endian::Little);
        assert_eq!(without_bom(&le), Some(Endian::Little));
        let be = encode("{\"time\": 1}", Endian::Big);
        assert_eq!(without_bom(&be), Some(Endian::Big));
        assert_eq!(without_bom(b"{\"time\": 1}"), None);
        assert_eq!(without_bom(b"PAR1\0\0\0\0"), None);
    }
}
