//! `scripts/demo --core`: a Rocket.Chat simulator on loopback and a bot on the core alone that
//! answers in it, no OpenClaw: what a C or Rust host looks like. A scripted conversation runs
//! first (a DM, a mention in a channel, a thread); then, when stdin is a terminal, you chat as
//! `alice`. The simulator's chat view (printed first, `http://127.0.0.1:PORT/view`) shows the
//! same conversation in a browser, where you can also post as alice or bob.
//!
//! ```text
//! scripts/demo --core                 # scripted conversation, then interactive
//! scripts/demo --core --once          # scripted conversation only
//! scripts/demo --core --port 3000     # fixed port, so other clients can join
//! ```
//!
//! The bot's "brain" here is a tiny echo; `scripts/demo` without `--core` runs the OpenClaw
//! gateway with the plugin, whose agent answers instead.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use openclaw_rocketchat::config::NoEnv;
use openclaw_rocketchat::event::Event;
use openclaw_rocketchat::{Core, CoreOptions};
use rocketchat_sim::{NewMessage, SimConfig, Simulator};
use serde_json::json;

const GENERAL: &str = "GENERAL";
const DM: &str = "Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE";
const BOT_PAT: &str = "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c";
const BOT_ID: &str = "Bq7dYg4KxWnZcT3rA";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut once = false;
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--once" => once = true,
            "--port" => port = args.next().ok_or("--port needs a value")?.parse()?,
            "-h" | "--help" => {
                println!("usage: scripts/demo --core [--once] [--port N]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }

    let core = Core::new(CoreOptions::default())?;
    // The simulator runs on the core's runtime too: one process, like a bundled server.
    let sim = core.block_on(Simulator::start(SimConfig {
        port,
        ..Default::default()
    }))?;
    println!(
        "Rocket.Chat simulator: {}  (DDP {})",
        sim.url(),
        sim.ws_url()
    );
    println!(
        "watch the chat in a browser: {}?as=alice  (or ?as=bob)",
        sim.view_url()
    );
    println!("Bot account `mybot` connecting with its personal access token…\n");

    let config = json!({
        "baseUrl": sim.url(),
        "authToken": BOT_PAT,
        "userId": BOT_ID,
        "dmPolicy": "open",
        "allowFrom": ["*"],
        "groupPolicy": "open",
    });
    core.block_on(core.apply_config(&config, &NoEnv))?;
    wait_for(
        &core,
        |e| matches!(e, Event::Authenticated { .. }),
        Duration::from_secs(10),
    )
    .ok_or("the bot did not connect")?;
    println!("mybot is online.\n");

    let script: [(&str, &str, Option<usize>); 4] = [
        (DM, "hi bot, are you there?", None),
        (GENERAL, "hello @mybot, what's the status?", None),
        (GENERAL, "@mybot can you start a thread on this?", None),
        (GENERAL, "@mybot following up here in the thread", Some(2)),
    ];
    let mut posted: Vec<String> = Vec::new();
    for (rid, text, thread_of) in script {
        let tmid = thread_of.and_then(|i| posted.get(i).cloned());
        let m = sim.post_message(
            "alice",
            NewMessage {
                rid: rid.into(),
                msg: text.into(),
                tmid: tmid.clone(),
                ..Default::default()
            },
        )?;
        posted.push(m["_id"].as_str().unwrap_or_default().to_owned());
        show(rid, tmid.is_some(), "alice", text);
        answer_next(&core, Duration::from_secs(5));
    }

    if once || !std::io::stdin().is_terminal() {
        core.block_on(core.close());
        return Ok(());
    }
    println!("\nYou are alice in #general. Mention @mybot to get an answer; `/dm text` talks to the bot directly; Ctrl-D quits.");
    let stdin = std::io::stdin();
    loop {
        print!("alice> ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (rid, text) = match line.strip_prefix("/dm ") {
            Some(t) => (DM, t),
            None => (GENERAL, line),
        };
        sim.post("alice", rid, text)?;
        answer_next(&core, Duration::from_secs(2));
    }
    core.block_on(core.close());
    Ok(())
}

/// The bot's brain: answer the next message addressed to it, in the same room and thread.
fn answer_next(core: &Core, within: Duration) {
    let Some(Event::Message { message }) =
        wait_for(core, |e| matches!(e, Event::Message { .. }), within)
    else {
        return;
    };
    let addressed = message.room_type.is_direct() || message.mentions.bot_mentioned;
    if !addressed {
        return;
    }
    let reply = format!(
        "You said: \"{}\". (Run scripts/demo without --core and an OpenClaw agent answers.)",
        message.text.trim()
    );
    let target = format!("channel:{}", message.room_id);
    match core.block_on(core.send_text("default", &target, &reply, message.thread_id.as_deref())) {
        Ok(_) => show(
            &message.room_id,
            message.thread_id.is_some(),
            "mybot",
            &reply,
        ),
        Err(e) => eprintln!("send failed: {e}"),
    }
}

fn wait_for(core: &Core, want: impl Fn(&Event) -> bool, within: Duration) -> Option<Event> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        let envelope = core.events().next_blocking(left)?;
        if want(&envelope.event) {
            return Some(envelope.event);
        }
    }
}

fn show(rid: &str, in_thread: bool, who: &str, text: &str) {
    let room = match rid {
        GENERAL => "#general",
        DM => "DM",
        other => other,
    };
    let thread = if in_thread { " (thread)" } else { "" };
    println!("[{room}{thread}] {who}: {text}");
}
