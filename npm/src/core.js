// One native RocketChatCore per process, shared by every account the host starts, and the
// routing of its event stream to the running accounts. Accounts start and stop by id (the
// core reads the account from the section it is given); readiness comes from the core's
// `authenticated`/`authFailed` events, not from polling.
import path from "node:path";
import { resolveStateDir } from "openclaw/plugin-sdk/state-paths";
import { CHANNEL_ID } from "./config.js";
import { coreSection } from "./host-rules.js";
import { loadNative } from "./native.js";

let core;
let subscription;
const handlers = new Map(); // accountId -> (event) => void
const waiters = new Map(); // accountId -> Set<(event) => void>, for `waitUsable`

const STATE_EVENTS = new Set(["authenticated", "authFailed", "accountStopped"]);

/** Where the core's own log lines go (they belong to no account): OpenClaw's logger. */
let coreLog = null;
export function setCoreLog(log) {
  if (log) coreLog = log;
}

/** A core `log` event (at the core's `logLevel`, default warn) in OpenClaw's logger. */
export function forwardLog(log, ev) {
  const line = `rocketchat: ${ev.message}`;
  if (ev.level === "error") log?.error?.(line);
  else if (ev.level === "warn") log?.warn?.(line);
  else if (ev.level === "info") log?.info?.(line);
  else log?.debug?.(line);
}

export function getCore() {
  if (!core || core.closed) {
    const { RocketChatCore } = loadNative();
    // Each account's memory of what it has seen lives in OpenClaw's state dir, so a gateway
    // restart delivers what was posted meanwhile and answers nothing twice.
    // droppedEvents "direct": a busy room's chatter the access rules turn away never crosses into
    // JS (counted in the status); a DM turned away still does, for the pairing sync (gateway.js).
    core = new RocketChatCore({ stateDir: path.join(resolveStateDir(), "plugins", CHANNEL_ID), droppedEvents: "direct" });
    subscription = core.onEvent((batch) => {
      for (const raw of batch) {
        let event;
        try {
          event = JSON.parse(raw);
        } catch {
          continue;
        }
        if (event.accountId == null && event.type === "log") forwardLog(coreLog, event);
        else handlers.get(event.accountId)?.(event);
        if (STATE_EVENTS.has(event.type)) {
          for (const wake of waiters.get(event.accountId) ?? []) wake(event);
        }
      }
    });
  }
  return core;
}

/**
 * Start (or restart with a changed config) one account from the host's whole config; events
 * go to `onEvent`. Resolves with `{status, warnings}`; rejects with the core's CONFIG error.
 */
export async function startCoreAccount(cfg, accountId, onEvent) {
  handlers.set(accountId, onEvent);
  const notes = [];
  try {
    const config = coreSection(cfg, accountId, (w) => notes.push(w));
    const started = await getCore().startAccount({ accountId, config, useProcessEnv: true });
    return notes.length ? { ...started, warnings: [...(started?.warnings ?? []), ...notes] } : started;
  } catch (e) {
    handlers.delete(accountId);
    throw e;
  }
}

export async function stopCoreAccount(accountId) {
  handlers.delete(accountId);
  if (!core) return false;
  return core.stopAccount({ accountId });
}

/**
 * Wait until the account can send: resolves once it is authenticated (at once when it
 * already is), rejects when the server refused its credentials or after `timeoutMs`.
 */
export async function waitUsable(accountId, timeoutMs = 15000) {
  const c = getCore();
  let wake;
  const event = new Promise((resolve) => (wake = resolve));
  const set = waiters.get(accountId) ?? new Set();
  waiters.set(accountId, set);
  set.add(wake);
  let timer;
  try {
    // Checked after subscribing, so an `authenticated` in between is not missed.
    const st = await c.status({ accountId });
    if (!st) throw new Error(`rocketchat: account ${accountId} is not running`);
    if (st.state === "ready" || st.state === "connected") return st;
    if (st.state === "authFailed") throw authFailed(accountId, st.lastError);
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rocketchat: account ${accountId} did not connect within ${timeoutMs} ms (state ${st.state})`)), timeoutMs);
    });
    const ev = await Promise.race([event, timeout]);
    if (ev.type === "authFailed") throw authFailed(accountId, ev.reason);
    if (ev.type === "accountStopped") throw new Error(`rocketchat: account ${accountId} stopped`);
    return ev;
  } finally {
    clearTimeout(timer);
    set.delete(wake);
    if (!set.size) waiters.delete(accountId);
  }
}

const authFailed = (accountId, why) => new Error(`rocketchat: account ${accountId}: authentication failed${why ? `: ${why}` : ""}`);

export async function closeCore() {
  subscription?.unsubscribe();
  const c = core;
  core = undefined;
  await c?.close();
}
