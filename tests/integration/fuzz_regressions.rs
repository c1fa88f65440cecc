//! Replays the saved fuzz corpus (`tests/fuzz-corpus/<target>/*`) through the same harnesses
//! the libFuzzer targets in `fuzz/` run, with the same invariant checks, so every crash the
//! fuzzers found and a handful of minimized seeds stay covered by plain `cargo test`.

use crate::fuzz_harness;

use std::path::Path;

#[test]
fn every_corpus_file_passes_its_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut total = 0;
    for (target, harness) in fuzz_harness::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {target}");
        for file in files {
            let data = std::fs::read(&file).expect("read a corpus file");
            let outcome = std::panic::catch_unwind(|| harness(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
            total += 1;
        }
    }
    eprintln!("{total} corpus inputs replayed");
}
