use std::io::Write;

use super::*;

/// Builds a small GGUF v3 file: a few metadata entries and two Q8_0 / F32 tensors.
fn sample_file() -> Vec<u8> {
    fn s(out: &mut Vec<u8>, v: &str) {
        out.extend((v.len() as u64).to_le_bytes());
        out.extend(v.as_bytes());
    }
    let mut b = Vec::new();
    b.extend(b"GGUF");
    b.extend(3u32.to_le_bytes());
    b.extend(2u64.to_le_bytes()); // tensors
    b.extend(5u64.to_le_bytes()); // metadata
    s(&mut b, "general.architecture");
    b.extend(8u32.to_le_bytes());
    s(&mut b, "qwen2");
    s(&mut b, "qwen2.context_length");
    b.extend(4u32.to_le_bytes());
    b.extend(4096u32.to_le_bytes());
    s(&mut b, "general.file_type");
    b.extend(4u32.to_le_bytes());
    b.extend(7u32.to_le_bytes());
    s(&mut b, "tokenizer.chat_template");
    b.extend(8u32.to_le_bytes());
    s(&mut b, "{% for m in messages %}{{ m.content }}{% endfor %}");
    s(&mut b, "tokenizer.ggml.tokens");
    b.extend(9u32.to_le_bytes());
    b.extend(8u32.to_le_bytes());
    b.extend(3u64.to_le_bytes());
    for t in ["a", "b", "<|im_end|>"] {
        s(&mut b, t);
    }
    // Tensor infos: a [64, 2] Q8_0 weight and a [64] F32 norm.
    s(&mut b, "blk.0.w");
    b.extend(2u32.to_le_bytes());
    b.extend(64u64.to_le_bytes());
    b.extend(2u64.to_le_bytes());
    b.extend(8u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    s(&mut b, "blk.0.norm");
    b.extend(1u32.to_le_bytes());
    b.extend(64u64.to_le_bytes());
    b.extend(0u32.to_le_bytes());
    b.extend(160u64.to_le_bytes()); // 4 blocks × 34 bytes = 136, aligned up to 160
    while b.len() % 32 != 0 {
        b.push(0);
    }
    b.extend(vec![0u8; 160 + 256]);
    b
}

fn write_tmp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}

#[test]
fn reads_metadata_of_a_valid_file() {
    let f = write_tmp(&sample_file());
    let info = GgufInfo::read(f.path()).unwrap();
    assert_eq!(info.version, 3);
    assert_eq!(info.architecture(), Some("qwen2"));
    assert_eq!(info.context_length(), Some(4096));
    assert_eq!(info.quantization(), "Q8_0");
    assert!(info.chat_template().unwrap().contains("messages"));
    assert_eq!(info.tensors.len(), 2);
    assert_eq!(info.parameter_count(), 64 * 2 + 64);
    match info.get("tokenizer.ggml.tokens").unwrap() {
        MetaValue::Array { len, items } => {
            assert_eq!(*len, 3);
            assert_eq!(items[2].as_str(), Some("<|im_end|>"));
        }
        v => panic!("unexpected {v:?}"),
    }
}

#[test]
fn every_truncation_is_refused_with_a_clear_error() {
    let full = sample_file();
    // Cut at every byte of the header and tables, and inside the data section.
    for cut in (0..full.len() - 1).step_by(7) {
        let f = write_tmp(&full[..cut]);
        let err = GgufInfo::read(f.path()).expect_err("truncated file accepted");
        let msg = err.to_string();
        assert!(
            matches!(err, GgufError::Truncated { .. } | GgufError::Corrupt { .. }),
            "cut {cut}: {msg}"
        );
        if cut > 24 {
            assert!(
                msg.contains("truncated") || msg.contains("cannot fit"),
                "cut {cut}: {msg}"
            );
        }
    }
}

#[test]
fn wrong_magic_and_version_are_named() {
    let mut bad = sample_file();
    bad[..4].copy_from_slice(b"GGML");
    let e = GgufInfo::read(write_tmp(&bad).path()).unwrap_err();
    assert!(matches!(e, GgufError::BadMagic { .. }), "{e}");
    assert!(e.to_string().contains("not a GGUF file"));

    let mut bad = sample_file();
    bad[4..8].copy_from_slice(&9u32.to_le_bytes());
    let e = GgufInfo::read(write_tmp(&bad).path()).unwrap_err();
    assert!(e.to_string().contains("unsupported GGUF version 9"), "{e}");
}

#[test]
fn corrupt_fields_are_refused() {
    // An absurd metadata count.
    let mut bad = sample_file();
    bad[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = GgufInfo::read(write_tmp(&bad).path()).unwrap_err();
    assert!(matches!(e, GgufError::Corrupt { .. }), "{e}");

    // An unknown value type for the first key (type field right after the key string).
    let mut bad = sample_file();
    let at = 24 + 8 + "general.architecture".len();
    bad[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
    let e = GgufInfo::read(write_tmp(&bad).path()).unwrap_err();
    assert!(e.to_string().contains("unknown value type 99"), "{e}");

    // Random garbage of GGUF's size.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(GgufInfo::read(write_tmp(&garbage).path()).is_err());
}

#[test]
fn missing_file_is_an_io_error() {
    let e = GgufInfo::read("/nonexistent/model.gguf").unwrap_err();
    assert!(matches!(e, GgufError::Io { .. }));
    assert!(e.to_string().contains("/nonexistent/model.gguf"));
}

/// Reads the real SmolLM2 file when the test set-up has fetched it (see `scripts/test`).
#[test]
fn reads_the_smollm2_file_when_present() {
    let path = crate::test_model_path();
    if !path.exists() {
        eprintln!("skipped: {} not present", path.display());
        return;
    }
    let info = GgufInfo::read(&path).unwrap();
    assert_eq!(info.architecture(), Some("llama"));
    assert_eq!(info.context_length(), Some(8192));
    assert_eq!(info.quantization(), "Q4_1");
    assert!(info.chat_template().unwrap().contains("<|im_start|>"));
    // A copy missing its last 64 bytes (more than any padding) is refused.
    let bytes = std::fs::read(&path).unwrap();
    let cut = write_tmp(&bytes[..bytes.len() - 64]);
    let e = GgufInfo::read(cut.path()).unwrap_err();
    assert!(matches!(e, GgufError::Truncated { .. }), "{e}");
}
