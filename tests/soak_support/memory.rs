//! Resident memory of a soak: sampling (`/proc/<pid>/status`) and the steady-state check.
//!
//! A process's RSS climbs while it warms up (allocator arenas, connection pools, the id
//! window filling) and then wobbles. So the first fifth of the samples is discarded, the rest
//! is split in two halves, and the median of the second half may exceed the median of the
//! first by at most [`TOLERANCE_PERCENT`] % or [`TOLERANCE_MIB`] MiB, whichever is larger.
//! Medians ignore a single spike; a leak per message or per reconnect keeps climbing, so the
//! second half sits clearly above the first and fails.

/// Allowed growth between the halves, relative.
pub const TOLERANCE_PERCENT: u64 = 10;
/// Allowed growth between the halves, absolute (noise of a healthy process is ~1 MiB).
pub const TOLERANCE_MIB: u64 = 4;
/// Fewer samples than this are reported, not judged.
pub const MIN_SAMPLES: usize = 10;

/// RSS of a process in bytes (`VmRSS` of `/proc/<pid>/status`; "self" for this one).
pub fn rss_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The figures of one process's samples.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    pub samples: usize,
    /// Samples discarded as warm-up.
    pub warmup: usize,
    /// Median of the first half after warm-up (bytes).
    pub first_half: u64,
    /// Median of the second half (bytes).
    pub second_half: u64,
    pub max: u64,
    /// False when the figures are only informative (see [`Memory::bounded`]).
    pub judged: bool,
}

fn median(s: &[u64]) -> u64 {
    if s.is_empty() {
        return 0;
    }
    let mut v = s.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

impl Memory {
    pub fn from_samples(samples: &[u64], judged: bool) -> Memory {
        let warmup = samples.len() / 5;
        let kept = &samples[warmup..];
        let half = kept.len() / 2;
        Memory {
            samples: samples.len(),
            warmup,
            first_half: median(&kept[..half]),
            second_half: median(&kept[half..]),
            max: samples.iter().copied().max().unwrap_or(0),
            judged,
        }
    }

    pub fn allowed_second_half(&self) -> u64 {
        let relative = self.first_half * TOLERANCE_PERCENT / 100;
        self.first_half + relative.max(TOLERANCE_MIB << 20)
    }

    pub fn bounded(&self) -> bool {
        !self.judged || self.samples < MIN_SAMPLES || self.second_half <= self.allowed_second_half()
    }

    /// One line for the report.
    pub fn describe(&self, name: &str) -> String {
        let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
        format!(
            "{name:<24} median {} then {} (allowed {}), max {}, {} samples, {} warm-up{}",
            mib(self.first_half),
            mib(self.second_half),
            mib(self.allowed_second_half()),
            mib(self.max),
            self.samples,
            self.warmup,
            if self.judged { "" } else { " (not judged)" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_flat_series_after_warm_up_passes() {
        // 30 MiB climbing to 40 MiB during warm-up, then ±1 MiB with a spike.
        let mut s: Vec<u64> = (0..20).map(|i| (30 + i / 2) * MIB).collect();
        s.extend((0..80).map(|i| 40 * MIB + (i % 3) * MIB));
        s[70] = 90 * MIB;
        let m = Memory::from_samples(&s, true);
        assert!(m.bounded(), "{m:?}");
    }

    #[test]
    fn a_steady_leak_fails() {
        // 40 MiB plus 160 KiB a second for 100 s: 16 MiB over the run.
        let s: Vec<u64> = (0..100).map(|i| 40 * MIB + i * 160 * 1024).collect();
        let m = Memory::from_samples(&s, true);
        assert!(!m.bounded(), "{m:?}");
        assert!(m.second_half > m.first_half + 6 * MIB, "{m:?}");
    }

    #[test]
    fn tolerance_is_the_larger_of_percent_and_mib() {
        let small = Memory::from_samples(&[10 * MIB; 20], true);
        assert_eq!(small.allowed_second_half(), 14 * MIB);
        let big = Memory::from_samples(&[100 * MIB; 20], true);
        assert_eq!(big.allowed_second_half(), 110 * MIB);
    }

    #[test]
    fn unjudged_or_short_series_are_not_failures() {
        let growing: Vec<u64> = (0..100).map(|i| i * MIB).collect();
        assert!(Memory::from_samples(&growing, false).bounded());
        assert!(Memory::from_samples(&growing[..5], true).bounded());
        assert!(!Memory::from_samples(&growing, true).bounded());
    }
}
