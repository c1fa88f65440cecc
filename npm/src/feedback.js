// What a user sees of a turn besides the answer: a reaction on their message while the bot
// works, and the room marked read once the bot has handled it.
//
// Reactions follow OpenClaw's settings, as its other channels do: `ackReaction` (the account's,
// the channel's, `messages.ackReaction`, the agent's emoji, else 👀; "" for none) within
// `messages.ackReactionScope` (default: group messages that mention the bot). With
// `messages.statusReactions.enabled` the reaction then follows the turn (🧠 thinking, a tool's
// emoji, ⏳/⚠️ when it takes long) and ends ✅ when answered or ❌ when it failed; without it the
// acknowledgement stays as it is. The core turns OpenClaw's Unicode emoji into Rocket.Chat's names.
//
// `sendReadReceipts: true` marks the room (and its threads) read when a turn ends, so the
// bot's unread count means "not handled yet".
import { createStatusReactionController, resolveAckReaction, shouldAckReaction } from "openclaw/plugin-sdk/channel-feedback";
import { CHANNEL_ID, resolveAccount } from "./config.js";

/** The feedback of one turn on message `m`; every call is safe to make and never throws. */
export function turnFeedback({ cfg, core, accountId, agentId, m, kind, wasMentioned, log }) {
  const quiet = (what) => (e) => log?.debug?.(`rocketchat: ${what} failed: ${String(e?.message ?? e)}`);
  const emoji = resolveAckReaction(cfg, agentId, { channel: CHANNEL_ID, accountId });
  const group = kind !== "direct";
  const ack = Boolean(emoji) && shouldAckReaction({
    scope: cfg?.messages?.ackReactionScope,
    isDirect: !group,
    isGroup: group,
    isMentionableGroup: group,
    canDetectMention: true,
    effectiveWasMentioned: Boolean(wasMentioned),
  });
  const react = (e, add) => core.react({ accountId, messageId: m.messageId, emoji: e, add });
  const status = ack && cfg?.messages?.statusReactions?.enabled === true
    ? createStatusReactionController({
      enabled: true,
      adapter: { setReaction: (e) => react(e, true), removeReaction: (e) => react(e, false) },
      initialEmoji: emoji,
      onError: quiet("status reaction"),
    })
    : undefined;
  const markRead = resolveAccount(cfg, accountId).config.sendReadReceipts === true;
  let answered = false;
  let failed = false;
  let elsewhere = false;
  return {
    /** The message was taken: acknowledge it. */
    accepted() {
      if (status) status.setQueued();
      else if (ack) react(emoji, true).catch(quiet("ack reaction"));
    },
    /** The agent started. */
    working() {
      status?.setThinking();
    },
    /** The agent uses a tool. */
    tool(name) {
      if (name) status?.setTool(name);
    },
    /** A visible message of the answer was posted. */
    answered() {
      answered = true;
    },
    /** Another instance of the bot (a second gateway) answered this message: its reactions
     * are left to it. */
    claimedElsewhere() {
      elsewhere = true;
    },
    /** The agent run, or sending its answer, failed. */
    failed() {
      failed = true;
    },
    /** The turn is over, however it ended. */
    finished() {
      if (status && !elsewhere) {
        // Not awaited: the final reaction is held a moment, and the next turn need not wait.
        const end = failed ? status.setError() : answered ? status.setDone() : status.restoreInitial();
        Promise.resolve(end).catch(quiet("status reaction"));
      }
      if (markRead) core.markRead({ accountId, target: `room:${m.roomId}`, readThreads: true }).catch(quiet("marking the room read"));
    },
  };
}
