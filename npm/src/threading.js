// Where the bot's answer goes: in the room, or in a thread under the message it answers
// (`replyToMode`, spelled as in OpenClaw's other channels: off | first | all | batched).
// OpenClaw's reply dispatcher applies the mode to each message of an answer (with `first`
// only the first one carries `replyToId`); this module says which mode applies to a room and
// which thread a turn and each message of its answer go to.
import { resolveAccount } from "./config.js";

export const REPLY_TO_MODES = ["off", "first", "all", "batched"];

const CHAT_TYPES = new Set(["direct", "group", "channel"]);

/**
 * The mode for one kind of room: `replyToModeByChatType[kind]`, else `replyToMode` (the
 * account's over the top level), else `off`. DMs stay flat unless
 * `replyToModeByChatType.direct` says otherwise: a thread in a one-to-one chat only hides
 * the answer.
 */
export function resolveReplyToMode(cfg, accountId, chatType) {
  const c = resolveAccount(cfg, accountId).config;
  const kind = CHAT_TYPES.has(chatType) ? chatType : undefined;
  const scoped = kind ? c.replyToModeByChatType?.[kind] : undefined;
  if (REPLY_TO_MODES.includes(scoped)) return scoped;
  if (kind === "direct") return "off";
  return REPLY_TO_MODES.includes(c.replyToMode) ? c.replyToMode : "off";
}

/**
 * The thread a turn belongs to (its session, typing, the start of its answer): the message's
 * own thread, or a new one under the message when the mode threads this turn (`batched`:
 * only when several quick messages were answered together). Undefined: the room itself.
 */
export function turnThread(m, mode) {
  if (m.threadId) return m.threadId;
  if (mode === "all" || mode === "first" || (mode === "batched" && m.batchSize > 1)) return m.messageId;
  return undefined;
}

/**
 * The thread one message of the answer goes to: a thread's messages are answered in it;
 * otherwise where OpenClaw's dispatcher pointed this message (`replyToId`, per the mode, or
 * a `[[reply_to:…]]` tag of the agent's), else the room.
 */
export function replyThread(m, payload) {
  return m.threadId || payload?.replyToId || undefined;
}

/** What OpenClaw's dispatcher needs to apply `batched`: whether this turn was a batch. */
export function replyThreadingPolicy(mode, m) {
  if (mode !== "batched") return undefined;
  return { implicitCurrentMessage: m.batchSize > 1 ? "allow" : "deny" };
}
