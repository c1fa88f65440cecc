//! `ROCKETCHAT_*` environment variables for the default account.
//!
//! The environment is injected ([`EnvSource`]) so resolution stays hermetic in
//! tests; [`ProcessEnv`] reads the real process environment.

use std::collections::{BTreeMap, HashMap};

/// `ROCKETCHAT_URL`: the default account's `baseUrl`.
pub const ENV_URL: &str = "ROCKETCHAT_URL";
/// `ROCKETCHAT_AUTH_TOKEN`: the default account's `authToken`.
pub const ENV_AUTH_TOKEN: &str = "ROCKETCHAT_AUTH_TOKEN";
/// `ROCKETCHAT_USER_ID`: the default account's `userId`.
pub const ENV_USER_ID: &str = "ROCKETCHAT_USER_ID";
/// `ROCKETCHAT_USERNAME`: the default account's `username`.
pub const ENV_USERNAME: &str = "ROCKETCHAT_USERNAME";
/// `ROCKETCHAT_PASSWORD`: the default account's `password`.
pub const ENV_PASSWORD: &str = "ROCKETCHAT_PASSWORD";

/// Every variable the config reads.
pub const ENV_VARS: [&str; 5] = [
    ENV_URL,
    ENV_AUTH_TOKEN,
    ENV_USER_ID,
    ENV_USERNAME,
    ENV_PASSWORD,
];

/// A source of environment variables. Empty values count as unset.
pub trait EnvSource {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment (`std::env::var`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// No environment at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl EnvSource for NoEnv {
    fn var(&self, _name: &str) -> Option<String> {
        None
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvSource for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl EnvSource for [(&str, &str)] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

impl<const N: usize> EnvSource for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.as_slice().var(name)
    }
}

/// Any `Fn(&str) -> Option<String>` closure.
#[derive(Debug, Clone, Copy)]
pub struct EnvFn<F>(pub F);

impl<F: Fn(&str) -> Option<String>> EnvSource for EnvFn<F> {
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }
}

/// Read `name`, treating empty or whitespace-only values as unset (values are not trimmed).
pub(crate) fn read(env: &(impl EnvSource + ?Sized), name: &str) -> Option<String> {
    env.var(name).filter(|v| !v.trim().is_empty())
}
