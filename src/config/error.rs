//! Config problems: every error and warning names its key path.

use std::collections::BTreeSet;
use std::fmt;

/// One problem (error or warning) at one key path, e.g.
/// `accounts.secondary.baseUrl: not a valid http(s) URL: "ftp://x"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Key path inside `channels.rocketchat` (`baseUrl`, `accounts.a.tls.caPem`, …).
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl ConfigProblem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigProblem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every error found while resolving a config, plus the warnings (unknown keys…).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors {
    /// The errors, in the order found (never empty when returned by `resolve`).
    pub errors: Vec<ConfigProblem>,
    /// Warnings found along the way.
    pub warnings: Vec<ConfigProblem>,
}

impl ConfigErrors {
    /// The errors.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.errors
    }

    /// The errors as `path: message` lines.
    pub fn messages(&self) -> Vec<String> {
        self.errors.iter().map(ToString::to_string).collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "invalid channels.rocketchat config ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.errors {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collector used while parsing and validating.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub errors: Vec<ConfigProblem>,
    pub warnings: Vec<ConfigProblem>,
    /// Paths whose value could not be read (wrong type): already reported, so checks that
    /// would call them missing stay quiet.
    unreadable: BTreeSet<String>,
}

impl Diagnostics {
    pub fn error(&mut self, p: ConfigProblem) {
        self.errors.push(p);
    }

    /// A value at `p.path` that could not be read.
    pub fn unreadable(&mut self, p: ConfigProblem) {
        self.unreadable.insert(p.path.clone());
        self.errors.push(p);
    }

    /// Whether `path` was reported as unreadable.
    pub fn was_unreadable(&self, path: &str) -> bool {
        self.unreadable.contains(path)
    }

    pub fn warning(&mut self, p: ConfigProblem) {
        self.warnings.push(p);
    }
}
