//! Per-key FIFO of sends: a send takes its place when it is made, not when it first runs,
//! so sends to one room are posted in the order the host made them, awaited or not.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::oneshot;

/// Queues of sends by key (a room id, or an account and target).
#[derive(Debug, Default)]
pub(crate) struct SendQueues {
    tails: Mutex<HashMap<String, oneshot::Receiver<()>>>,
}

/// A place in one key's queue; dropping it lets the next send go.
#[derive(Debug)]
pub(crate) struct Turn {
    prev: Option<oneshot::Receiver<()>>,
    _done: oneshot::Sender<()>,
}

impl Turn {
    /// Wait until every earlier send with the same key has finished (or been dropped).
    pub(crate) async fn wait(&mut self) {
        if let Some(prev) = self.prev.take() {
            let _ = prev.await;
        }
    }
}

impl SendQueues {
    /// Take the next place in `key`'s queue, now.
    pub(crate) fn enqueue(&self, key: &str) -> Turn {
        let (tx, rx) = oneshot::channel();
        let mut tails = self.tails.lock().unwrap_or_else(|e| e.into_inner());
        if tails.len() > 1024 {
            // forget keys whose last send is finished
            tails.retain(|_, rx| matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
        }
        let prev = tails.insert(key.to_owned(), rx);
        Turn { prev, _done: tx }
    }
}

/// Run `fut` once `turn` comes up, holding the turn until `fut` is done.
pub(crate) async fn in_turn<F: std::future::Future>(mut turn: Turn, fut: F) -> F::Output {
    turn.wait().await;
    let out = fut.await;
    drop(turn);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn turns_run_in_the_order_they_were_taken() {
        let queues = SendQueues::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let turn = queues.enqueue("room");
                let log = log.clone();
                // spawned tasks start in any order; the turn decides when each runs
                (i, turn, log)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|(i, turn, log)| {
                tokio::spawn(in_turn(turn, async move {
                    tokio::task::yield_now().await;
                    log.lock().unwrap().push(i);
                }))
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }
}
