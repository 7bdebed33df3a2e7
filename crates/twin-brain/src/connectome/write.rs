//! Writing connectomes back in TVB's text layout (zip archive or directory).
//!
//! Numbers are written with Rust's shortest round-trip formatting, so reading
//! a written connectome gives back exactly the same values.

use std::{fmt::Write as _, io::Write, path::Path};

use super::Connectome;
use crate::error::ConnectomeError;

fn matrix_text(n: usize, m: &[f64]) -> String {
    let mut s = String::with_capacity(m.len() * 8);
    for row in m.chunks_exact(n) {
        for (k, v) in row.iter().enumerate() {
            if k > 0 {
                s.push(' ');
            }
            let _ = write!(s, "{v:?}");
        }
        s.push('\n');
    }
    s
}

fn vec3_text(v: &[[f64; 3]]) -> String {
    v.iter()
        .map(|c| format!("{:?} {:?} {:?}\n", c[0], c[1], c[2]))
        .collect()
}

fn bool_text(v: &[bool]) -> String {
    v.iter().map(|&b| if b { "1\n" } else { "0\n" }).collect()
}

impl Connectome {
    /// The member files of TVB's layout, as `(file name, content)`.
    pub fn to_text_files(&self) -> Vec<(&'static str, String)> {
        let n = self.n;
        let mut files = vec![
            ("weights.txt", matrix_text(n, &self.weights)),
            ("tract_lengths.txt", matrix_text(n, &self.tract_lengths)),
        ];
        let centres: String = self
            .labels
            .iter()
            .zip(&self.centres)
            .map(|(l, c)| {
                // Labels with whitespace would break the column layout.
                let l: String = l
                    .chars()
                    .map(|ch| if ch.is_whitespace() { '_' } else { ch })
                    .collect();
                format!("{l} {:?} {:?} {:?}\n", c[0], c[1], c[2])
            })
            .collect();
        files.push(("centres.txt", centres));
        if let Some(o) = &self.orientations {
            files.push(("average_orientations.txt", vec3_text(o)));
        }
        if let Some(a) = &self.areas {
            files.push(("areas.txt", a.iter().map(|x| format!("{x:?}\n")).collect()));
        }
        if let Some(c) = &self.cortical {
            files.push(("cortical.txt", bool_text(c)));
        }
        if let Some(h) = &self.hemispheres {
            files.push(("hemispheres.txt", bool_text(h)));
        }
        files.push((
            "info.txt",
            "weights_unit = \"au\"\nlength_unit = \"mm\"\n".to_string(),
        ));
        files
    }

    /// Writes a TVB connectivity zip (deflate-compressed text members at the top level).
    pub fn write_zip(&self, path: impl AsRef<Path>) -> Result<(), ConnectomeError> {
        let path = path.as_ref();
        let io = |e: std::io::Error| ConnectomeError::io(path, e);
        let zerr = |e: zip::result::ZipError| ConnectomeError::Zip {
            file: path.display().to_string(),
            reason: e.to_string(),
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in self.to_text_files() {
            zip.start_file(name, opts).map_err(zerr)?;
            zip.write_all(content.as_bytes()).map_err(io)?;
        }
        zip.finish().map_err(zerr)?;
        Ok(())
    }

    /// Writes the member files into a directory (created if missing).
    pub fn write_dir(&self, dir: impl AsRef<Path>) -> Result<(), ConnectomeError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| ConnectomeError::io(dir, e))?;
        for (name, content) in self.to_text_files() {
            let p = dir.join(name);
            std::fs::write(&p, content).map_err(|e| ConnectomeError::io(&p, e))?;
        }
        Ok(())
    }
}
