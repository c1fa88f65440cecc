//! The simulator against the protocol spec, over raw DDP and REST. One test binary for all
//! of them: one link instead of eleven.

#[path = "../ddp_support/mod.rs"]
mod ddp_support;
#[path = "../rest_support/mod.rs"]
mod rest_support;

mod control_flood;
mod control_restart;
mod ddp_faults;
mod ddp_handshake;
mod ddp_login;
mod ddp_methods;
mod ddp_streams;
mod ddp_typing;
mod rest_auth;
mod rest_files;
mod rest_limits;
mod rest_messages;
mod rest_rooms;
mod view;
