//! The committed header is exactly what the pinned cbindgen generates from this crate.

use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("../../include/openclaw_rocketchat.h")
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn header_matches_generated() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write the header");
        eprintln!("rewrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "include/openclaw_rocketchat.h is out of date with bindings/c (first difference at line {}).\n\
             Regenerate it with: UPDATE_HEADER=1 cargo test -p rocketchat-c header\n\
             and commit the result.",
            first + 1
        );
    }
}

/// Every name the header declares (functions, types, enum constants) is `rcc_`/`RCC_`.
#[test]
fn header_declares_only_rcc_names() {
    const KEYWORDS: &[&str] = &[
        "void", "char", "int", "const", "uint32_t", "enum", "struct", "typedef",
    ];
    let header = generate();
    let mut declared = 0;
    for line in header.lines() {
        let code = line.trim();
        if code.is_empty()
            || code.starts_with("//")
            || code.starts_with("/*")
            || code.starts_with('*')
            || code.starts_with('#')
            || code.contains("extern \"C\"")
        {
            continue;
        }
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let ident = &code[start..i];
                let next = code[i..].trim_start().chars().next();
                if matches!(next, Some('(' | ';' | '{' | '=')) && !KEYWORDS.contains(&ident) {
                    assert!(
                        ident.starts_with("rcc_") || ident.starts_with("RCC_"),
                        "the header declares {ident:?}, not an rcc_ name: {line}"
                    );
                    declared += 1;
                }
            } else {
                i += 1;
            }
        }
    }
    assert!(declared > 20, "found only {declared} declarations");
    assert!(header.contains("#ifndef OPENCLAW_ROCKETCHAT_H"));
}
