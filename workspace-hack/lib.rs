//! Empty on purpose: this crate only gives the workspace's shared dependencies one feature set
//! (see scripts/workspace-hack.py).
