// A live message (`streaming.mode`, as OpenClaw's other channels spell it): the bot posts a
// placeholder as soon as it takes a message, shows its progress there (the tool it uses, that
// it is still at it), and the core edits the placeholder into the answer, falling back to new
// messages when the answer outgrows one (`streamStart` with a `placeholder`).
//   "progress": the answer replaces the placeholder when it is complete.
//   "partial":  the answer's text grows in it as the agent writes (block streaming).
//   "block": no placeholder; the answer in blocks as they come (as `blockStreaming: true`).
//   "off" (default): no placeholder; the answer is posted when ready.
// A watchdog keeps the placeholder honest: it says the turn is still running after
// `streaming.stallMs` without news, and what failed when the turn dies.
import { resolveAccount } from "./config.js";

export const DEFAULT_PLACEHOLDER = "Working…";
export const DEFAULT_STALL_MS = 60_000;
const MIN_STALL_MS = 5_000;

const MODES = new Set(["progress", "partial", "block"]);

/** `{mode, placeholder, stallMs, live}` of an account (`live`: a placeholder is posted). */
export function resolveStreaming(cfg, accountId) {
  const s = resolveAccount(cfg, accountId).config.streaming;
  const mode = MODES.has(s?.mode) ? s.mode : "off";
  const placeholder = typeof s?.placeholder === "string" && s.placeholder.trim() ? s.placeholder.trim() : DEFAULT_PLACEHOLDER;
  const stallMs = Number.isFinite(s?.stallMs) ? Math.max(MIN_STALL_MS, s.stallMs) : DEFAULT_STALL_MS;
  return { mode, placeholder, stallMs, live: mode === "progress" || mode === "partial" };
}

const minutes = (ms) => Math.max(1, Math.round(ms / 60_000));

/**
 * The progress side of one live message: what the placeholder says while no text is shown.
 * `show(text)` is the core's `streamStatus` for the open stream. Never throws.
 */
export function liveProgress({ placeholder, stallMs, show, log, now = Date.now }) {
  const started = now();
  let textStarted = false;
  let timer;
  let current = placeholder;
  const say = (text) => {
    if (textStarted || !text) return;
    current = text;
    Promise.resolve()
      .then(() => show(text))
      .catch((e) => log?.debug?.(`rocketchat: live message status failed: ${String(e?.message ?? e)}`));
  };
  const arm = () => {
    clearTimeout(timer);
    if (textStarted) return;
    timer = setTimeout(() => {
      say(`${placeholder} still running after ${minutes(now() - started)} min`);
      arm();
    }, stallMs);
    timer.unref?.();
  };
  arm();
  return {
    get text() {
      return current;
    },
    /** The agent uses a tool. */
    tool(name) {
      if (!name) return;
      say(`${placeholder} (${name})`);
      arm();
    },
    /** The answer's text reached the message: progress is over. */
    textStarted() {
      textStarted = true;
      clearTimeout(timer);
    },
    /** The turn failed before any text: the placeholder says so instead of going stale (in
     * plain words: the error itself goes to the log, it may name internals). */
    failed() {
      say("Sorry, this did not work. Please try again.");
      textStarted = true;
      clearTimeout(timer);
    },
    /** The turn is over. */
    stop() {
      clearTimeout(timer);
    },
  };
}
