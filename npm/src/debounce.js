// Inbound debounce: rapid messages from one sender in one room or thread (a paste sent as
// several messages) become one agent turn, newline-joined, through OpenClaw's own debouncer
// (`messages.inbound.debounceMs`, or `messages.inbound.byChannel.rocketchat`). Files and
// control commands are never held back.
import { createInboundDebouncer, resolveInboundDebounceMs } from "openclaw/plugin-sdk/channel-inbound-debounce";
import { CHANNEL_ID } from "./config.js";

/** One message standing for `items` (oldest first): the last one, with every text joined. */
export function mergeMessages(items) {
  if (items.length === 1) return items[0];
  const last = items.at(-1);
  const join = (pick) => items.map(pick).filter((t) => t && t.trim()).join("\n");
  return {
    ...last,
    // How many messages this turn answers (replyToMode "batched" threads only those).
    batchSize: items.length,
    text: join((m) => m.text),
    trigger: last.trigger && {
      ...last.trigger,
      body: join((m) => m.trigger?.body ?? m.text),
      wasMentioned: items.some((m) => m.trigger?.wasMentioned),
    },
  };
}

/**
 * `dispatch(message)` for each turn; returns `(message) => void` that hands a message over,
 * through the debouncer when one is configured, else at once.
 */
export function inboundDispatcher({ cfg, log, dispatch }) {
  const debounceMs = resolveInboundDebounceMs({ cfg, channel: CHANNEL_ID });
  const run = (m) => withContentionRetry(() => dispatch(m), log).catch((e) => log.error?.(`rocketchat: inbound turn failed: ${String(e?.stack ?? e)}`));
  if (!debounceMs) return run;
  const debouncer = createInboundDebouncer({
    debounceMs,
    buildKey: (m) => `${m.roomId}\n${m.threadId ?? ""}\n${m.sender.id}`,
    shouldDebounce: (m) => !(m.files?.length || m.attachments?.length) && !m.trigger?.controlCommand,
    onFlush: (items, createFlush) => createFlush({ dispatch: () => run(mergeMessages(items)) }),
    onError: (err) => log.error?.(`rocketchat: inbound debounce failed: ${String(err?.message ?? err)}`),
  });
  return (m) => {
    debouncer.enqueue(m).catch((e) => log.error?.(`rocketchat: inbound debounce failed: ${String(e?.message ?? e)}`));
  };
}

// OpenClaw refuses a turn while another of its processes (a CLI command such as `openclaw
// channels status`) holds its state database; the turn had not started, so it is run again
// rather than the message going unanswered.
const CONTENTION_RETRIES = 5;
const isContention = (e) => e?.name === "StateDatabaseCoordinatorContentionError" || /owns state-lifecycle/.test(String(e?.message ?? ""));

async function withContentionRetry(turn, log) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await turn();
    } catch (e) {
      if (!isContention(e) || attempt > CONTENTION_RETRIES) throw e;
      log.warn?.(`rocketchat: OpenClaw's state is busy (another openclaw process); running the turn again (${attempt}/${CONTENTION_RETRIES})`);
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}
