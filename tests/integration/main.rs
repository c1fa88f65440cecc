//! Integration tests of the core against the simulator. One binary for all of them: one
//! link instead of fifteen, and far less disk. `soak` and `security` stay separate because
//! they install process-wide hooks (panic hook, global log capture).

#[path = "../deliver_support/mod.rs"]
mod deliver_support;
#[path = "../fuzz_harness/mod.rs"]
mod fuzz_harness;
#[path = "../support/mod.rs"]
mod support;

mod core_accounts;
mod core_actions;
mod core_auth;
mod core_catchup;
mod core_claims;
mod core_config;
mod core_faults;
mod core_logs;
mod core_memory;
mod core_room_actions;
mod core_roundtrip;
mod core_send;
mod core_shutdown;
mod core_streams;
mod deliver_live;
mod deliver_media;
mod deliver_stream;
mod deliver_text;
mod deliver_typing;
mod fuzz_regressions;
mod pipeline_delivery;
mod pipeline_dm;
mod pipeline_groups;
mod pipeline_status;
