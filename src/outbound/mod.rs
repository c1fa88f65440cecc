//! Outbound: from "the host has a reply" to "the reply is in the room".

pub mod target;
