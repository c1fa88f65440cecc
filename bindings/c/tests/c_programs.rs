//! Build the C programs in `tests/c/` against the cdylib (and the staticlib, and through
//! pkg-config), run them, some against an in-process simulator, and check what they say.
//!
//! The library comes from this test's own target dir and profile: the test runs
//! `cargo build -p rocketchat-c` first (see [`lib_dir`]), so it never links a stale copy.
//!
//! Skipped, saying so, only when no C compiler (`cc`) is installed (and the valgrind and
//! AddressSanitizer runs of `hostile.c` when valgrind or libasan is missing).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use rocketchat_sim::{SimConfig, Simulator};

const CFLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn include_dir() -> PathBuf {
    repo_dir().join("include")
}

fn c_source(name: &str) -> PathBuf {
    repo_dir().join("tests/c").join(name)
}

/// Where compiled test programs go.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rcc-c-tests");
    std::fs::create_dir_all(&dir).expect("create the output dir");
    dir
}

/// Whether a C compiler is installed; prints why the test is skipped when not.
fn have_cc(test: &str) -> bool {
    let ok = Command::new("cc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED {test}: no C compiler (`cc`) on PATH");
    }
    ok
}

/// The directory holding a fresh `libopenclaw_rocketchat.so` and `.a` for this build.
///
/// The package has no rlib (see Cargo.toml), so `cargo test` does not build the C library
/// for its integration tests; this runs `cargo build -p rocketchat-c` once per test binary,
/// with the test's own profile and target dir, and lets cargo decide what is stale (a no-op
/// when the library is up to date).
fn lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // <target>/<profile>/deps/c_programs-HASH
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("profile dir")
            .to_path_buf();
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("profile name");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "rocketchat-c"])
            .current_dir(repo_dir())
            .env(
                "CARGO_TARGET_DIR",
                profile_dir.parent().expect("target dir"),
            );
        // What cargo set for this test (CARGO_PKG_NAME, CARGO_MANIFEST_DIR, ...): build scripts
        // such as ring's rerun when those change, so the inner build would otherwise rebuild
        // ring, rustls and everything above them, and the next plain `cargo build` again.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let set_by_cargo_test = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_BIN_",
                "CARGO_CRATE_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || [
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&key.as_ref());
            if set_by_cargo_test {
                cmd.env_remove(key.as_ref());
            }
        }
        if profile != "debug" {
            cmd.args(["--profile", profile]);
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "cargo build -p rocketchat-c failed");
        assert!(
            profile_dir.join("libopenclaw_rocketchat.so").is_file(),
            "no libopenclaw_rocketchat.so in {}",
            profile_dir.display()
        );
        profile_dir
    })
    .clone()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Compile `tests/c/<name>.c` against the cdylib; returns the executable.
fn compile(name: &str) -> PathBuf {
    let lib = lib_dir();
    let exe = out_dir().join(name);
    run(Command::new("cc")
        .args(CFLAGS)
        .arg("-I")
        .arg(include_dir())
        .arg(c_source(&format!("{name}.c")))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lopenclaw_rocketchat", "-lpthread"]));
    exe
}

/// Run a compiled program with a time limit. For every `POST <rid> <text>` line it prints,
/// `on_post` is called (the harness plays the human). Returns stdout; panics on failure.
fn run_program(
    exe: &Path,
    args: &[&str],
    limit: Duration,
    mut on_post: impl FnMut(&str, &str),
) -> String {
    let mut child = Command::new(exe)
        .args(args)
        // cargo puts its own library dirs (target/debug first) on LD_LIBRARY_PATH, which
        // beats the rpath and could load a stale copy of the library: use the rpath only.
        .env_remove("LD_LIBRARY_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let mut output = String::new();
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix("POST ") {
                    let (rid, text) = rest.split_once(' ').expect("POST <rid> <text>");
                    on_post(rid, text);
                }
                output.push_str(&line);
                output.push('\n');
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = err_reader.join().unwrap_or_default();
            panic!(
                "{} timed out after {limit:?}\n--- stdout\n{output}\n--- stderr\n{err}",
                exe.display()
            );
        }
    };
    reader.join().expect("stdout reader");
    output.extend(rx.try_iter().map(|l| l + "\n"));
    let err = err_reader.join().unwrap_or_default();
    assert!(
        status.success(),
        "{} failed ({status})\n--- stdout\n{output}\n--- stderr\n{err}",
        exe.display()
    );
    output
}

/// A simulator on its own small runtime.
struct Sim {
    sim: Simulator,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    fn start() -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(Simulator::start(SimConfig::default()))
            .expect("simulator");
        Sim { sim, rt }
    }

    fn post(&self, rid: &str, text: &str) {
        let _guard = self.rt.enter();
        self.sim.post("alice", rid, text).expect("post as alice");
    }

    fn bot_said(&self) -> Vec<String> {
        self.sim
            .messages_by("mybot")
            .iter()
            .filter_map(|m| m["msg"].as_str().map(str::to_owned))
            .collect()
    }
}

#[test]
fn smoke() {
    if !have_cc("smoke") {
        return;
    }
    let exe = compile("smoke");
    let out = run_program(&exe, &[], Duration::from_secs(60), |_, _| {});
    assert!(
        out.contains("smoke: ") && out.contains("checks passed"),
        "{out}"
    );
}

#[test]
fn roundtrip_against_the_simulator() {
    if !have_cc("roundtrip") {
        return;
    }
    let exe = compile("roundtrip");
    let sim = Sim::start();
    let url = sim.sim.url();
    let out = run_program(&exe, &[&url], Duration::from_secs(90), |rid, text| {
        sim.post(rid, text)
    });
    assert!(out.contains("roundtrip: "), "{out}");
    let said = sim.bot_said();
    assert!(said.iter().any(|m| m == "pong from C"), "{said:?}");
    assert!(said.iter().any(|m| m == "pong via callback"), "{said:?}");
}

#[test]
fn threads_against_the_simulator() {
    if !have_cc("threads") {
        return;
    }
    let exe = compile("threads");
    let sim = Sim::start();
    let url = sim.sim.url();
    let out = run_program(&exe, &[&url], Duration::from_secs(90), |_, _| {});
    assert!(out.contains("threads: "), "{out}");
    let said = sim.bot_said();
    assert_eq!(
        said.iter().filter(|m| m.starts_with("worker ")).count(),
        12,
        "{said:?}"
    );
}

#[test]
fn header_compiles_as_c_and_cpp() {
    if !have_cc("header") {
        return;
    }
    let header = include_dir().join("openclaw_rocketchat.h");
    run(Command::new("cc")
        .args(CFLAGS)
        .args(["-fsyntax-only", "-x", "c"])
        .arg(&header));
    let cxx = Command::new("c++").arg("--version").output();
    if cxx.map(|o| o.status.success()).unwrap_or(false) {
        run(Command::new("c++")
            .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .args(["-x", "c++", "-fsyntax-only"])
            .arg(&header));
    } else {
        eprintln!("SKIPPED the C++ half: no `c++` on PATH");
    }
}

#[test]
fn static_library_links() {
    if !have_cc("static") {
        return;
    }
    let lib = lib_dir();
    let exe = out_dir().join("smoke-static");
    run(Command::new("cc")
        .args(CFLAGS)
        .arg("-I")
        .arg(include_dir())
        .arg(c_source("smoke.c"))
        .arg("-o")
        .arg(&exe)
        .arg(lib.join("libopenclaw_rocketchat.a"))
        .args(["-lpthread", "-ldl", "-lm"]));
    let ldd = Command::new("ldd").arg(&exe).output();
    if let Ok(ldd) = ldd {
        let text = String::from_utf8_lossy(&ldd.stdout);
        assert!(!text.contains("openclaw_rocketchat"), "{text}");
    }
    let out = run_program(&exe, &[], Duration::from_secs(60), |_, _| {});
    assert!(out.contains("checks passed"), "{out}");
}

#[test]
fn pkg_config_file_works_against_the_build_dir() {
    if !have_cc("pkg-config") {
        return;
    }
    let have_pkg_config = Command::new("pkg-config")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have_pkg_config {
        eprintln!("SKIPPED pkg-config: no `pkg-config` on PATH");
        return;
    }
    let lib = lib_dir();
    let pc_dir = out_dir().join("pkgconfig");
    std::fs::create_dir_all(&pc_dir).unwrap();
    let script = repo_dir().join("bindings/c/pkgconfig.sh");
    let pc = run(Command::new("sh")
        .arg(&script)
        .arg(repo_dir())
        .arg(&lib)
        .arg(include_dir()));
    std::fs::write(pc_dir.join("openclaw_rocketchat.pc"), &pc.stdout).unwrap();
    let flags = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc_dir)
        .args(["--cflags", "--libs", "openclaw_rocketchat"]));
    let flags = String::from_utf8(flags.stdout).unwrap();
    assert!(flags.contains("-lopenclaw_rocketchat"), "{flags}");
    let exe = out_dir().join("smoke-pkg-config");
    run(Command::new("cc")
        .args(CFLAGS)
        .arg(c_source("smoke.c"))
        .arg("-o")
        .arg(&exe)
        .args(flags.split_whitespace())
        // The build dir is no system library dir: let the program find the .so there.
        .arg(format!("-Wl,-rpath,{}", lib.display())));
    let out = run_program(&exe, &[], Duration::from_secs(60), |_, _| {});
    assert!(out.contains("checks passed"), "{out}");
}

/// `tests/c/hostile.c`: NULL for every pointer argument, invalid UTF-8 and JSON, double and
/// concurrent close, calls after close, a re-entrant callback, concurrent calls.
#[test]
fn hostile_inputs_get_clear_statuses() {
    if !have_cc("hostile") {
        return;
    }
    let exe = compile("hostile");
    let out = run_program(&exe, &[], Duration::from_secs(60), |_, _| {});
    assert!(
        out.contains("hostile: ") && out.contains("checks passed"),
        "{out}"
    );
}

/// The same program under valgrind memcheck: no invalid access, no definite leak.
///
/// Only definite leaks fail the run (`--errors-for-leak-kinds=definite`): the Rust
/// runtime's thread-locals and the runtime threads still parked at exit show up as
/// "possibly lost" / "still reachable", which is not a leak of the ABI.
#[test]
fn hostile_under_valgrind() {
    if !have_cc("hostile under valgrind") {
        return;
    }
    let have_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have_valgrind {
        eprintln!("SKIPPED hostile under valgrind: no `valgrind` on PATH");
        return;
    }
    let exe = compile("hostile");
    let exe = exe.to_str().expect("UTF-8 path");
    let out = run_program(
        Path::new("valgrind"),
        &[
            "--quiet",
            "--error-exitcode=1",
            "--leak-check=full",
            "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite",
            "--fair-sched=yes",
            exe,
        ],
        Duration::from_secs(120),
        |_, _| {},
    );
    assert!(out.contains("checks passed"), "{out}");
}

/// The same program built with AddressSanitizer (and LeakSanitizer) around the uninstrumented
/// Rust library: catches the C side's misuse of what the library returns (reads past a
/// string, use after `rcc_string_free`/`rcc_error_free`) and leaks of returned objects.
/// Skipped when the compiler cannot link `-fsanitize=address`.
#[test]
fn hostile_under_asan() {
    if !have_cc("hostile under ASan") {
        return;
    }
    let lib = lib_dir();
    let exe = out_dir().join("hostile-asan");
    let built = Command::new("cc")
        .args(CFLAGS)
        .args(["-g", "-fsanitize=address", "-fno-omit-frame-pointer"])
        .arg("-I")
        .arg(include_dir())
        .arg(c_source("hostile.c"))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lopenclaw_rocketchat", "-lpthread"])
        .output()
        .expect("run cc");
    if !built.status.success() {
        eprintln!(
            "SKIPPED hostile under ASan: cc -fsanitize=address failed:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        return;
    }
    let out = run_program(&exe, &[], Duration::from_secs(60), |_, _| {});
    assert!(out.contains("checks passed"), "{out}");
}

/// `tests/c/full_queue.c` in one mode, against its own simulator: stopping while the event
/// queue is full and nobody takes events must return, deliver what was queued and report
/// the rest in `accountStopped`.
fn full_queue(mode: &str) {
    if !have_cc(mode) {
        return;
    }
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    let exe = EXE.get_or_init(|| compile("full_queue"));
    let sim = Sim::start();
    let url = sim.sim.url();
    let out = run_program(exe, &[&url, mode], Duration::from_secs(90), |rid, text| {
        sim.post(rid, text)
    });
    assert!(
        out.contains(&format!("full_queue {mode}: ")) && out.contains("checks passed"),
        "{out}"
    );
}

#[test]
fn stop_account_returns_while_the_queue_is_full_and_nobody_pulls() {
    full_queue("pull-stop");
}

#[test]
fn a_callback_stops_its_account_while_the_queue_is_full() {
    full_queue("callback-stop");
}

#[test]
fn a_callback_restarts_its_account_with_apply_config_while_the_queue_is_full() {
    full_queue("callback-apply");
}

#[test]
fn a_callback_closes_the_core_while_the_queue_is_full() {
    full_queue("callback-close");
}

#[test]
fn a_callback_that_frees_the_core_is_not_called_again() {
    full_queue("callback-free");
}
