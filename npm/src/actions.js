// What the agent can do in Rocket.Chat besides answering, through OpenClaw's `message` tool (and
// `openclaw message …`): react, read, edit and delete the bot's messages, search, pin, list the
// bot's rooms, room info, user lookup; plus the directory `openclaw message send --target` and
// `openclaw directory` resolve names with. Each action is one core verb: the core applies the
// same access rules as inbound (a room the bot's policy closes cannot be read or searched, the
// messages of senders it shuts out are left out) and checks that a message acted on is in the
// conversation named, so an agent cannot reach into another room by message id.
import { jsonResult } from "openclaw/plugin-sdk/channel-actions";
import { createChannelDirectoryAdapter } from "openclaw/plugin-sdk/directory-runtime";
import { defaultAccountId, listAccountIds, resolveAccount } from "./config.js";

/** The actions this channel handles (`send` stays on the outbound path). */
export const ACTIONS = ["react", "read", "edit", "delete", "search", "pin", "unpin", "channel-list", "channel-info", "member-info"];
const HANDLED = new Set(ACTIONS);
const MAX_LIMIT = 100;

const str = (v) => (typeof v === "string" && v.trim() ? v.trim() : typeof v === "number" ? String(v) : undefined);
function limitOf(params, fallback = 20) {
  const n = Number(params.limit);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_LIMIT) : fallback;
}
function need(value, what, action) {
  if (value === undefined) throw new Error(`rocketchat ${action}: ${what} is required`);
  return value;
}

/** A message as the agent reads it: who, when, what; no internals. */
function shown(m) {
  return {
    messageId: m.messageId,
    sender: m.sender?.username ?? m.sender?.id,
    senderName: m.sender?.name,
    text: m.text ?? "",
    ts: m.ts,
    timestampUtc: typeof m.ts === "number" ? new Date(m.ts).toISOString() : undefined,
    threadId: m.threadId ?? undefined,
    files: m.files?.length ? m.files.map((f) => f.name).filter(Boolean) : undefined,
  };
}

/**
 * OpenClaw's message-actions adapter. `deps`: `getCore()` and `ensureAccount(cfg, accountId)`
 * (starts the account in a CLI process), passed in so it can be tested with a fake core.
 */
export function createMessageActions({ getCore, ensureAccount }) {
  return {
    describeMessageTool: ({ cfg }) => {
      const usable = listAccountIds(cfg).some((id) => {
        const a = resolveAccount(cfg, id);
        return a.enabled && a.configured;
      });
      return usable ? { actions: ["send", ...ACTIONS] } : { actions: [] };
    },
    supportsAction: ({ action }) => HANDLED.has(action),
    handleAction: async (ctx) => {
      const { action, cfg } = ctx;
      const params = ctx.params ?? {};
      const accountId = ctx.accountId ?? defaultAccountId(cfg);
      await ensureAccount(cfg, accountId);
      const core = getCore();
      const target = str(params.to) ?? str(params.target) ?? str(params.channelId);
      const messageId = () => need(str(params.messageId) ?? str(params.message_id) ?? str(ctx.toolContext?.currentMessageId), "messageId", action);
      const room = () => need(target, "a target (channel:<roomId>, #name, @username or user:<userId>)", action);
      switch (action) {
        case "react": {
          const emoji = need(str(params.emoji), "emoji", action);
          const remove = params.remove === true || params.remove === "true";
          const id = messageId();
          await core.react({ accountId, messageId: id, emoji, add: !remove, target });
          return jsonResult({ ok: true, messageId: id, emoji, removed: remove });
        }
        case "read": {
          const messages = await core.history({ accountId, target: room(), threadId: str(params.threadId), limit: limitOf(params) });
          return jsonResult({ ok: true, target, messages: messages.map(shown) });
        }
        case "search": {
          const query = need(str(params.query), "query", action);
          const messages = await core.search({ accountId, target: room(), query, limit: limitOf(params) });
          return jsonResult({ ok: true, target, query, messages: messages.map(shown) });
        }
        case "edit": {
          const text = need(str(params.message) ?? str(params.text), "message (the new text)", action);
          const sent = await core.editMessage({ accountId, messageId: messageId(), text, target });
          return jsonResult({ ok: true, messageId: sent.id, text: sent.text });
        }
        case "delete": {
          const id = messageId();
          await core.deleteMessage({ accountId, messageId: id, target });
          return jsonResult({ ok: true, messageId: id, deleted: true });
        }
        case "pin":
        case "unpin": {
          const id = messageId();
          await core[action]({ accountId, messageId: id, target });
          return jsonResult({ ok: true, messageId: id, pinned: action === "pin" });
        }
        case "channel-list": {
          const rooms = await core.rooms({ accountId });
          return jsonResult({ ok: true, rooms });
        }
        case "channel-info": {
          const info = await core.roomInfo({ accountId, target: room() });
          return jsonResult({ ok: true, room: info });
        }
        case "member-info": {
          const user = need(str(params.userId) ?? str(params.memberId) ?? str(params.user), "userId", action);
          const info = await core.userInfo({ accountId, user });
          return jsonResult({ ok: true, user: info });
        }
        default:
          return undefined;
      }
    },
  };
}

const matches = (query, ...fields) => {
  const q = String(query ?? "").trim().replace(/^[#@]/, "").toLowerCase();
  return !q || fields.some((f) => String(f ?? "").toLowerCase().includes(q));
};

/** OpenClaw's directory for this channel: the bot's rooms and the people it has DMs with. */
export function createDirectory({ getCore, ensureAccount }) {
  const roomsOf = async (cfg, accountId) => {
    const id = accountId ?? defaultAccountId(cfg);
    await ensureAccount(cfg, id);
    return getCore().rooms({ accountId: id });
  };
  const cut = (list, limit) => (Number.isInteger(limit) && limit > 0 ? list.slice(0, limit) : list);
  return createChannelDirectoryAdapter({
    self: async ({ cfg, accountId }) => {
      const id = accountId ?? defaultAccountId(cfg);
      await ensureAccount(cfg, id);
      const st = await getCore().status({ accountId: id });
      return st?.userId ? { kind: "user", id: `user:${st.userId}`, name: st.username, handle: st.username ? `@${st.username}` : undefined } : null;
    },
    listGroups: async ({ cfg, accountId, query, limit }) => {
      const rooms = (await roomsOf(cfg, accountId)).filter((r) => r.type === "c" || r.type === "p");
      return cut(
        rooms.filter((r) => matches(query, r.name, r.roomId)).map((r) => ({ kind: r.type === "c" ? "channel" : "group", id: `channel:${r.roomId}`, name: r.name, handle: r.label })),
        limit,
      );
    },
    listPeers: async ({ cfg, accountId, query, limit }) => {
      const dms = (await roomsOf(cfg, accountId)).filter((r) => r.type === "d" && r.label);
      return cut(
        dms.filter((r) => matches(query, r.label, r.name)).map((r) => ({ kind: "user", id: r.label, name: r.label.replace(/^@/, ""), handle: r.label })),
        limit,
      );
    },
  });
}
