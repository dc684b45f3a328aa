//! A backup is one plain tar file (POSIX ustar, no compression: the database and the store are
//! mostly incompressible pages, and `tar -xf` reads it anywhere). Only what a backup holds is
//! written or read back: regular files with plain names in one folder, each at most 8 GiB.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

const BLOCK: usize = 512;
/// The largest size the 11 octal digits of a ustar header hold.
const MAX_SIZE: u64 = 0o777_7777_7777;

fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
}

fn header(name: &str, size: u64, mtime: u64) -> Result<[u8; BLOCK], String> {
    if name.is_empty() || name.len() > 99 || name.contains('/') {
        return Err(format!("cannot archive a file named {name:?}"));
    }
    if size > MAX_SIZE {
        return Err(format!("{name} is larger than a tar entry holds (8 GiB)"));
    }
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o600);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    seal(&mut h);
    Ok(h)
}

/// The header's checksum: the sum of its bytes, taken with the checksum field as spaces.
fn checksum(h: &[u8; BLOCK]) -> u32 {
    let mut blank = *h;
    blank[148..156].copy_from_slice(b"        ");
    blank.iter().map(|&b| u32::from(b)).sum()
}

fn seal(h: &mut [u8; BLOCK]) {
    let text = format!("{:06o}\0 ", checksum(h));
    h[148..156].copy_from_slice(text.as_bytes());
}

/// Writes the files of `dir` (plain files only, by name order) into a new tar at `to`.
pub fn pack(dir: &Path, to: &Path, mtime: u64) -> Result<(), String> {
    let err = |e: io::Error| format!("writing {}: {e}", to.display());
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = BufWriter::new(File::create(to).map_err(err)?);
    for name in &names {
        let mut file = File::open(dir.join(name)).map_err(err)?;
        let size = file.metadata().map_err(err)?.len();
        out.write_all(&header(name, size, mtime)?).map_err(err)?;
        let copied = io::copy(&mut (&mut file).take(size), &mut out).map_err(err)?;
        if copied != size {
            return Err(format!("{name} changed size while it was archived"));
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        out.write_all(&[0u8; BLOCK][..pad]).map_err(err)?;
    }
    out.write_all(&[0u8; 2 * BLOCK]).map_err(err)?;
    out.into_inner()
        .map_err(|e| err(e.into_error()))?
        .sync_all()
        .map_err(err)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(text, 8).ok()
}

/// Extracts the tar at `from` into the folder `into`; returns the names. Refuses anything but
/// regular files with plain names (no paths, links or devices): a crafted archive cannot write
/// outside `into`.
pub fn unpack(from: &Path, into: &Path) -> Result<Vec<String>, String> {
    let bad = |why: &str| format!("{} is not a backup archive: {why}", from.display());
    let err = |e: io::Error| format!("reading {}: {e}", from.display());
    let mut input = BufReader::new(File::open(from).map_err(err)?);
    let mut names = Vec::new();
    loop {
        let mut h = [0u8; BLOCK];
        input.read_exact(&mut h).map_err(|_| bad("it ends early"))?;
        if h.iter().all(|&b| b == 0) {
            return Ok(names);
        }
        let stored = parse_octal(&h[148..156]).ok_or_else(|| bad("bad checksum field"))?;
        if u64::from(checksum(&h)) != stored {
            return Err(bad("a header checksum is wrong"));
        }
        let end = h[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = std::str::from_utf8(&h[..end]).map_err(|_| bad("a name is not text"))?;
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(bad(&format!("entry {name:?} is not a plain file name")));
        }
        if !matches!(h[156], b'0' | 0) {
            return Err(bad(&format!("entry {name:?} is not a regular file")));
        }
        let size = parse_octal(&h[124..136]).ok_or_else(|| bad("bad size field"))?;
        let path = into.join(name);
        let mut file = File::create(&path).map_err(err)?;
        let copied = io::copy(&mut (&mut input).take(size), &mut file).map_err(err)?;
        if copied != size {
            return Err(bad("it ends inside a file"));
        }
        let pad = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        io::copy(&mut (&mut input).take(pad), &mut io::sink()).map_err(err)?;
        names.push(name.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_the_system_tar_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("a.txt"), b"hello").unwrap();
        std::fs::write(src.join("empty"), b"").unwrap();
        std::fs::write(src.join("big.bin"), vec![7u8; 1500]).unwrap();
        let tar = dir.path().join("x.tar");
        pack(&src, &tar, 1_764_547_200).unwrap();

        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        assert_eq!(unpack(&tar, &out).unwrap(), ["a.txt", "big.bin", "empty"]);
        assert_eq!(std::fs::read(out.join("big.bin")).unwrap(), vec![7u8; 1500]);
        assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"hello");

        // The system's tar reads it as well (a real peer: every supported system has one).
        let listed = std::process::Command::new("tar")
            .arg("-tf")
            .arg(&tar)
            .output()
            .expect("run tar");
        assert!(listed.status.success(), "{listed:?}");
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        assert_eq!(
            listed.lines().collect::<Vec<_>>(),
            ["a.txt", "big.bin", "empty"]
        );
    }

    #[test]
    fn a_crafted_archive_cannot_escape_or_pass_as_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let evil = dir.path().join("evil.tar");
        let mut h = header("x", 1, 0).unwrap();
        h[..7].copy_from_slice(b"../evil");
        let mut bytes = h.to_vec();
        bytes.extend([0u8; 3 * BLOCK]);
        std::fs::write(&evil, &bytes).unwrap();
        assert!(unpack(&evil, &out).unwrap_err().contains("checksum"));
        seal(&mut h);
        bytes[..BLOCK].copy_from_slice(&h);
        std::fs::write(&evil, &bytes).unwrap();
        assert!(
            unpack(&evil, &out)
                .unwrap_err()
                .contains("not a plain file name")
        );
        assert!(!dir.path().join("evil").exists());
        std::fs::write(&evil, b"not a tar at all").unwrap();
        assert!(
            unpack(&evil, &out)
                .unwrap_err()
                .contains("not a backup archive")
        );
        assert!(header("a/b", 1, 0).is_err());
    }
}
