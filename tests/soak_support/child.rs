//! The soak's simulator, in this process ([`Sim::InProcess`]) or in a child process
//! ([`Sim::Child`]) so that the soak's process holds only the core and its memory can be
//! judged. The child is the soak binary itself run with [`CHILD_FLAG`] ([`serve_child`]): one
//! JSON command per stdin line, one tagged answer per stdout line. Humans post through it
//! even while the server is down (a restart), as they do in-process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocketchat_sim::store::TokenKind;
use rocketchat_sim::{Fault, Faults, NewMessage, SimConfig, Simulator, Store};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// Run the soak binary with this flag to make it the simulator child.
pub const CHILD_FLAG: &str = "--simulator-child";

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A simulator in a child process.
pub struct ChildSim {
    process: Child,
    stdin: Mutex<ChildStdin>,
    pending: Pending,
    next: AtomicU64,
    url: String,
}

impl ChildSim {
    /// Start `program args…`; waits for its URL line (10 s).
    pub fn spawn(program: &str, args: &[String]) -> Result<ChildSim, String> {
        let mut process = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the simulator process {program}: {e}"))?;
        let stdin = process.stdin.take().expect("piped");
        let mut lines = BufReader::new(process.stdout.take().expect("piped")).lines();
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let pending: Pending = Arc::default();
        let answers = pending.clone();
        std::thread::spawn(move || {
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = url_tx.send(first);
            for line in lines.map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let id = v["id"].as_u64().unwrap_or(0);
                if let Some(tx) = answers.lock().unwrap().remove(&id) {
                    let _ = tx.send(v["value"].clone());
                }
            }
        });
        let first = url_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the simulator process did not start within 10 s".to_string())?;
        let url = first
            .strip_prefix("ROCKETCHAT_SIM_URL=")
            .ok_or_else(|| format!("the simulator process printed {first:?}, not its URL"))?
            .to_owned();
        Ok(ChildSim {
            process,
            stdin: Mutex::new(stdin),
            pending,
            next: AtomicU64::new(1),
            url,
        })
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Send one command and wait for its answer (30 s: a restart takes at most ~4 s).
    async fn call(&self, mut command: Value) -> Value {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        command["id"] = id.into();
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        {
            let mut stdin = self.stdin.lock().unwrap();
            writeln!(stdin, "{command}").expect("the simulator process is running");
            stdin.flush().expect("the simulator process is running");
        }
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("the simulator process answers within 30 s")
            .expect("the simulator process answers")
    }
}

impl Drop for ChildSim {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// What the soak drives its simulator with, wherever it runs; cheap to clone.
#[derive(Clone)]
pub enum Handle {
    Local(Arc<Store>, Arc<Faults>),
    Child(Arc<ChildSim>),
}

impl Handle {
    /// Post as a human (by user id); returns the message id.
    pub async fn post(&self, user_id: &str, rid: &str, msg: &str, tmid: Option<&str>) -> String {
        let cmd = json!({"op": "post", "user": user_id, "rid": rid, "msg": msg, "tmid": tmid});
        let id = self.run(cmd).await;
        id.as_str().expect("human post").to_owned()
    }

    /// Arm a fault given as the control API takes it (`{"kind": …}`).
    pub async fn fault(&self, fault: Value) {
        self.run(json!({"op": "fault", "fault": fault})).await;
    }

    /// Expire the newest login token of `user_id`; false when it has none.
    pub async fn expire_newest_token(&self, user_id: &str) -> bool {
        let v = self.run(json!({"op": "expireNewest", "user": user_id}));
        v.await.as_bool().unwrap_or(false)
    }

    pub async fn reset_faults(&self) {
        self.run(json!({"op": "reset"})).await;
    }

    /// The texts of every message `user_id` sent.
    pub async fn texts_by(&self, user_id: &str) -> Vec<String> {
        let v = self.run(json!({"op": "textsBy", "user": user_id})).await;
        serde_json::from_value(v).unwrap_or_default()
    }

    async fn run(&self, cmd: Value) -> Value {
        match self {
            Handle::Local(store, faults) => local(store, faults, &cmd),
            Handle::Child(c) => c.call(cmd).await,
        }
    }
}

/// The soak's simulator: in this process or in a child.
pub struct Sim {
    local: Option<Simulator>,
    handle: Handle,
    url: String,
}

impl Sim {
    pub async fn in_process() -> Sim {
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("simulator starts");
        let handle = Handle::Local(sim.store().clone(), sim.faults().clone());
        Sim {
            url: sim.url(),
            local: Some(sim),
            handle,
        }
    }

    pub fn child(program: &str, args: &[String]) -> Result<Sim, String> {
        let child = ChildSim::spawn(program, args)?;
        Ok(Sim {
            url: child.url.clone(),
            local: None,
            handle: Handle::Child(Arc::new(child)),
        })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The child's pid, when there is one.
    pub fn pid(&self) -> Option<u32> {
        match &self.handle {
            Handle::Local(..) => None,
            Handle::Child(c) => Some(c.pid()),
        }
    }

    /// Down for `down`, then up again with the same state.
    pub async fn restart(&mut self, down: Duration) {
        match (&mut self.local, &self.handle) {
            (Some(s), _) => s.restart(down).await.expect("the simulator listens again"),
            (None, Handle::Child(c)) => {
                c.call(json!({"op": "restart", "ms": down.as_millis() as u64}))
                    .await;
            }
            (None, Handle::Local(..)) => unreachable!("a local handle has its simulator"),
        }
    }
}

/// Every command but `restart`, against a simulator of this process. Store and faults outlive
/// a restart, so these never wait for one.
fn local(store: &Store, faults: &Faults, cmd: &Value) -> Value {
    let s = |k: &str| cmd[k].as_str().unwrap_or_default().to_owned();
    match cmd["op"].as_str().unwrap_or_default() {
        "post" => {
            let new = NewMessage {
                rid: s("rid"),
                msg: s("msg"),
                tmid: cmd["tmid"].as_str().map(Into::into),
                ..Default::default()
            };
            let doc = store.send_message(&s("user"), new);
            doc.map(|d| d["_id"].clone()).unwrap_or(Value::Null)
        }
        "fault" => {
            let fault: Fault = serde_json::from_value(cmd["fault"].clone()).expect("a fault");
            faults.inject(fault).into()
        }
        "expireNewest" => {
            let newest = store.user(&s("user")).and_then(|u| {
                u.tokens
                    .iter()
                    .filter(|t| t.kind == TokenKind::Login)
                    .max_by_key(|t| t.when)
                    .map(|t| t.token.clone())
            });
            match newest {
                Some(token) => faults.inject(Fault::ExpireToken { token }).into(),
                None => false.into(),
            }
        }
        "reset" => {
            faults.reset();
            true.into()
        }
        "textsBy" => {
            let texts: Vec<Value> = store
                .all_messages()
                .iter()
                .filter(|m| m["u"]["_id"] == s("user").as_str())
                .map(|m| m["msg"].clone())
                .collect();
            texts.into()
        }
        other => panic!("unknown simulator command {other:?}"),
    }
}

/// The child's main: serve a simulator and answer commands until stdin closes.
pub fn serve_child() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sim = Simulator::start(SimConfig::default()).await?;
        let out = Arc::new(Mutex::new(std::io::stdout()));
        {
            let mut o = out.lock().unwrap();
            writeln!(o, "ROCKETCHAT_SIM_URL={}", sim.url())?;
            o.flush()?;
        }
        let (store, faults) = (sim.store().clone(), sim.faults().clone());
        let sim = Arc::new(tokio::sync::Mutex::new(sim));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        // Each command on its own task: posts go on while a restart holds the server down.
        while let Some(cmd) = rx.recv().await {
            let (sim, out) = (sim.clone(), out.clone());
            let (store, faults) = (store.clone(), faults.clone());
            tokio::spawn(async move {
                let value = if cmd["op"] == "restart" {
                    let down = Duration::from_millis(cmd["ms"].as_u64().unwrap_or(0));
                    let mut s = sim.lock().await;
                    s.restart(down).await.expect("the simulator listens again");
                    Value::Bool(true)
                } else {
                    local(&store, &faults, &cmd)
                };
                let mut o = out.lock().unwrap();
                let _ = writeln!(o, "{}", json!({"id": cmd["id"], "value": value}));
                let _ = o.flush();
            });
        }
        // stdin closed: the soak is over (or gone).
        Ok(())
    })
}
