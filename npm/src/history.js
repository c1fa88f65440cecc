// Conversation context: when the bot is triggered in a room or thread, what was said there since
// its last message, and in a thread the message that started it, read from the server (so it
// survives restarts) through the core's `history` verb, which applies the access rules: senders
// who may not talk to the bot are left out. Handed to OpenClaw as `InboundHistory` ("Chat
// history since last reply") and `ThreadStarterBody`. The core is passed in, so the selection
// can be tested without a native module or a host.

// OpenClaw's default for `messages.groupChat.historyLimit` (plugin-sdk/reply-history).
export const DEFAULT_HISTORY_LIMIT = 50;
// The most the server is asked for at once (the core's bound).
const MAX_FETCH = 100;
// Character budget: one long paste must not crowd out the rest, nor the history the prompt.
export const MAX_ENTRY_CHARS = 1000;
export const MAX_HISTORY_CHARS = 8000;
// A slow server delays the answer this much at most; the turn then goes on without history.
const FETCH_TIMEOUT_MS = 5000;

/** `messages.groupChat.historyLimit` (0 disables), never negative. */
export function resolveHistoryLimit(cfg) {
  const v = cfg?.messages?.groupChat?.historyLimit;
  return Number.isFinite(v) ? Math.max(0, Math.floor(v)) : DEFAULT_HISTORY_LIMIT;
}

const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function entryBody(h) {
  const text = (h.text ?? "").trim();
  if (text) return text;
  const names = (h.files ?? []).map((f) => f.name).filter(Boolean);
  if (names.length) return `[file: ${names.join(", ")}]`;
  return h.attachments?.length ? "[attachment]" : "";
}

/**
 * The entries for the agent from `messages` (oldest first, as `history` returns them): those
 * after the bot's last message, before the trigger, newest kept first within the limits.
 */
export function selectHistory(messages, { trigger, botUserId, limit, threadId }) {
  const out = [];
  let chars = 0;
  for (let i = messages.length - 1; i >= 0 && out.length < limit; i--) {
    const h = messages[i];
    if (h.messageId === trigger.messageId) continue;
    if (typeof h.ts === "number" && typeof trigger.ts === "number" && h.ts > trigger.ts) continue;
    // In the room itself, thread replies belong to their thread (unless also shown in the room).
    if (!threadId && h.threadId && !h.threadShown) continue;
    if (botUserId && h.sender?.id === botUserId) break; // the bot's last word: older is answered
    const body = entryBody(h);
    if (!body) continue;
    const clipped = clip(body, MAX_ENTRY_CHARS);
    if (chars + clipped.length > MAX_HISTORY_CHARS) break;
    chars += clipped.length;
    out.push({
      sender: h.sender?.name || h.sender?.username || h.sender?.id || "unknown",
      body: clipped,
      timestamp: typeof h.ts === "number" ? h.ts : undefined,
      messageId: h.messageId,
    });
  }
  return out.reverse();
}

/**
 * A thread's first message, when `messages` has it (the access rules may have left it out):
 * `{sender, body, label}`, the body within the budget of one entry.
 */
export function threadStarter(messages, { threadId, roomLabel }) {
  const root = threadId ? messages.find((h) => h.messageId === threadId) : undefined;
  const body = root ? entryBody(root) : "";
  if (!body) return undefined;
  const sender = root.sender?.name || root.sender?.username || root.sender?.id || "unknown";
  const preview = body.replace(/\s+/g, " ").slice(0, 80);
  return { sender, body: clip(body, MAX_ENTRY_CHARS), label: `Rocket.Chat thread in ${roomLabel}: ${preview}` };
}

async function botUserId(core, state) {
  if (!state.botUserId) state.botUserId = (await core.status({ accountId: state.accountId }))?.userId;
  return state.botUserId;
}

/**
 * The context of a turn: `{history, starter}`, each undefined when there is none (history
 * disabled, nothing new, not a thread, or the server could not be read: logged, and the turn
 * goes on without it). Groups get the room's or thread's recent messages; a DM only its
 * thread's (the DM's own session holds the rest of the conversation).
 */
export async function fetchContext(core, state, m, { kind, roomLabel } = {}) {
  const threadId = m.threadId || undefined;
  const limit = resolveHistoryLimit(state.cfg);
  if (limit === 0 || (kind === "direct" && !threadId)) return {};
  let timer;
  try {
    const fetched = core.history({
      accountId: state.accountId,
      target: `room:${m.roomId}`,
      threadId,
      limit: Math.min(MAX_FETCH, limit + 1), // + the trigger itself
    });
    fetched.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${FETCH_TIMEOUT_MS / 1000} s`)), FETCH_TIMEOUT_MS);
    });
    const messages = (await Promise.race([fetched, timeout])) ?? [];
    const starter = threadStarter(messages, { threadId, roomLabel: roomLabel ?? m.roomId });
    // The root is the starter, not history: it stays in view however long ago the bot spoke.
    const rest = starter ? messages.filter((h) => h.messageId !== threadId) : messages;
    const entries = selectHistory(rest, { trigger: m, botUserId: await botUserId(core, state), limit, threadId });
    return { history: entries.length ? entries : undefined, starter };
  } catch (e) {
    const where = threadId ? `a thread in ${m.roomName ? `#${m.roomName}` : m.roomId}` : m.roomName ? `#${m.roomName}` : m.roomId;
    state.log?.warn?.(`rocketchat: could not read the recent messages of ${where}, answering without them: ${String(e?.message ?? e)}`);
    return {};
  } finally {
    clearTimeout(timer);
  }
}
