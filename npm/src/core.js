// One native RocketChatCore per process, shared by every account the host starts, and the
// routing of its event stream to the running accounts.
import { loadNative } from "./native.js";
import { sectionFor } from "./config.js";

let core;
let subscription;
const handlers = new Map(); // accountId -> (event) => void
const running = new Set();
let applyChain = Promise.resolve();

export function getCore() {
  if (!core || core.closed) {
    const { RocketChatCore } = loadNative();
    core = new RocketChatCore();
    subscription = core.onEvent((batch) => {
      for (const raw of batch) {
        let event;
        try {
          event = JSON.parse(raw);
        } catch {
          continue;
        }
        const handler = handlers.get(event.accountId);
        if (handler) handler(event);
      }
    });
  }
  return core;
}

/** Whether the loaded core has a method (newer core functions are used when present). */
export const coreHas = (name) => typeof getCore()[name] === "function";

// applyConfig takes the whole section; serialize the calls and keep only running accounts enabled.
function applyRunning(cfg) {
  const next = applyChain.then(() => getCore().applyConfig(sectionFor(cfg, running), { useProcessEnv: true }));
  applyChain = next.catch(() => {});
  return next;
}

/** Start (or restart with a changed config) one account; events go to `onEvent`. Rejects with the core's CONFIG error. */
export async function startCoreAccount(cfg, accountId, onEvent) {
  handlers.set(accountId, onEvent);
  running.add(accountId);
  try {
    return await applyRunning(cfg);
  } catch (e) {
    handlers.delete(accountId);
    running.delete(accountId);
    throw e;
  }
}

export async function stopCoreAccount(accountId) {
  handlers.delete(accountId);
  running.delete(accountId);
  if (!core) return false;
  return core.stopAccount(accountId);
}

export async function closeCore() {
  subscription?.unsubscribe();
  const c = core;
  core = undefined;
  await c?.close();
}
