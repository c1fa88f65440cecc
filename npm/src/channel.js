// The Rocket.Chat ChannelPlugin object (OpenClaw 2026.9.x plugin SDK, see ../OPENCLAW-INTERFACES.md).
// Thin glue over the native core (bindings/node): config reading here is pure; everything that
// talks to Rocket.Chat is the core's.
import { createChannelPluginBase, createChatChannelPlugin } from "openclaw/plugin-sdk/channel-core";
import { collectAllowlistProviderRestrictSendersWarnings } from "openclaw/plugin-sdk/channel-policy";
import {
  CHANNEL_ID,
  DEFAULT_ACCOUNT_ID,
  ENV_KEYS,
  defaultAccountId,
  listAccountIds,
  normalizeAllowEntry,
  resolveAccount,
  section,
} from "./config.js";
import { getCore, startCoreAccount, waitUsable } from "./core.js";
import { sendReplyMedia, sendReplyText, startAccount, statusPatch, stopAccount } from "./gateway.js";
import { deleteAccount, setAccountEnabled } from "./accounts.js";
import { probeRocketchat, rocketchatSetup, rocketchatSetupWizard } from "./setup.js";
import { resolveReplyToMode } from "./threading.js";
import { createDirectory, createMessageActions } from "./actions.js";

export { CHANNEL_ID, DEFAULT_ACCOUNT_ID, listAccountIds, resolveAccount };
export { NativeCoreMissingError } from "./native.js";

let runtime;
export const setRocketchatRuntime = (r) => {
  runtime = r;
};
export const getRocketchatRuntime = () => {
  if (!runtime) throw new Error("rocketchat: plugin runtime not initialized");
  return runtime;
};

export const rocketchatMeta = {
  id: CHANNEL_ID,
  label: "Rocket.Chat",
  selectionLabel: "Rocket.Chat (plugin)",
  detailLabel: "Rocket.Chat Bot",
  docsPath: "/channels/rocketchat",
  docsLabel: "rocketchat",
  blurb: "self-hosted team chat over DDP/REST; install the plugin to enable.",
  order: 66,
  quickstartAllowFrom: true,
  markdownCapable: true,
};

const isConfigured = (account) => account.configured;

// Outbound sends from a process where the host did not start the account (the CLI's `message
// send`, a pairing approval notice) start it in the core first and wait until it is usable.
async function ensureAccount(cfg, accountId) {
  if (!(await getCore().status({ accountId }))) await startCoreAccount(cfg, accountId, () => {});
  await waitUsable(accountId);
}

// The agent's message actions and the directory: core verbs, the account started on demand.
const actionDeps = { getCore, ensureAccount };

const messageIdOf = (sent) => {
  const last = Array.isArray(sent) ? sent.at(-1) : sent;
  return String(last?.id ?? last?._id ?? last?.messageId ?? "");
};

async function outboundSendText(ctx) {
  const accountId = ctx.accountId ?? defaultAccountId(ctx.cfg);
  await ensureAccount(ctx.cfg, accountId);
  const sent = await sendReplyText(runtime, ctx.cfg, accountId, ctx.to, ctx.text, ctx.replyToId ?? ctx.threadId ?? null);
  return { channel: CHANNEL_ID, messageId: messageIdOf(sent), timestamp: Date.now() };
}

async function outboundSendMedia(ctx) {
  const accountId = ctx.accountId ?? defaultAccountId(ctx.cfg);
  await ensureAccount(ctx.cfg, accountId);
  // The host's media access for this send (roots, its reader): its rules decide what may be read.
  const access = { mediaAccess: ctx.mediaAccess, mediaLocalRoots: ctx.mediaLocalRoots, mediaReadFile: ctx.mediaReadFile };
  const sent = await sendReplyMedia(runtime, ctx.cfg, accountId, ctx.to, ctx.mediaUrl, ctx.text, ctx.replyToId ?? ctx.threadId ?? null, { access });
  return { channel: CHANNEL_ID, messageId: messageIdOf(sent), timestamp: Date.now() };
}

/** `openclaw security audit`: groupPolicy "open" (the account's, or channels.defaults') lets anyone in a room trigger the bot. */
export function collectSecurityWarnings({ cfg, account }) {
  const base = account.accountId === DEFAULT_ACCOUNT_ID || !section(cfg).accounts?.[account.accountId] ? `channels.${CHANNEL_ID}` : `channels.${CHANNEL_ID}.accounts.${account.accountId}`;
  return collectAllowlistProviderRestrictSendersWarnings({
    cfg,
    providerConfigPresent: cfg?.channels?.[CHANNEL_ID] !== undefined,
    configuredGroupPolicy: account.config.groupPolicy,
    surface: "Rocket.Chat channels",
    openScope: "any member",
    groupPolicyPath: `${base}.groupPolicy`,
    groupAllowFromPath: `${base}.groupAllowFrom`,
    mentionGated: account.config.chatmode !== "onmessage",
  });
}

const TARGET_RE = /^(channel:|room:|user:|rocketchat:|#|@)\S+$/;

export const rocketchatPlugin = createChatChannelPlugin({
  base: {
    ...createChannelPluginBase({
      id: CHANNEL_ID,
      meta: rocketchatMeta,
      capabilities: {
        chatTypes: ["direct", "channel", "group", "thread"],
        threads: true,
        media: true,
        blockStreaming: true,
        reactions: true,
        edit: true,
        unsend: true,
      },
      streaming: { blockStreamingCoalesceDefaults: { minChars: 1500, idleMs: 1000 } },
      reload: { configPrefixes: [`channels.${CHANNEL_ID}`], accountScopedRestart: true },
      setupWizard: rocketchatSetupWizard,
      setup: rocketchatSetup,
      config: {
        listAccountIds: (cfg) => listAccountIds(cfg),
        resolveAccount: (cfg, accountId) => resolveAccount(cfg, accountId),
        defaultAccountId: (cfg) => defaultAccountId(cfg),
        inspectAccount: (cfg, accountId) => {
          const a = resolveAccount(cfg, accountId);
          return { accountId: a.accountId, enabled: a.enabled, configured: a.configured, baseUrl: a.baseUrl, authMode: a.authMode, credentialSource: a.credentialSource };
        },
        isEnabled: (account) => account.enabled,
        setAccountEnabled,
        deleteAccount,
        isConfigured,
        unconfiguredReason: () => `set channels.${CHANNEL_ID}.baseUrl and authToken + userId (or username + password), or ${ENV_KEYS.baseUrl} with ${ENV_KEYS.authToken} + ${ENV_KEYS.userId}`,
        describeAccount: (account) => ({
          accountId: account.accountId,
          name: account.name,
          enabled: account.enabled,
          configured: account.configured,
          baseUrl: account.baseUrl,
        }),
        resolveAllowFrom: ({ cfg, accountId }) => resolveAccount(cfg, accountId).config.allowFrom ?? [],
        formatAllowFrom: ({ allowFrom }) => (allowFrom ?? []).map((e) => normalizeAllowEntry(e)).filter(Boolean),
        hasConfiguredState: ({ cfg, env }) =>
          Boolean(section(cfg).baseUrl || section(cfg).accounts || env?.[ENV_KEYS.baseUrl]),
      },
    }),
    actions: createMessageActions(actionDeps),
    directory: createDirectory(actionDeps),
    messaging: {
      targetPrefixes: [CHANNEL_ID, "channel", "room", "user"],
      directTargetStyle: "user-prefixed",
      targetIdComparison: "case-sensitive",
      normalizeTarget: (raw) => {
        const t = String(raw ?? "").trim();
        return t.startsWith(`${CHANNEL_ID}:`) && !/^rocketchat:(channel|group):/.test(t) ? `user:${t.slice(CHANNEL_ID.length + 1)}` : t.replace(/^rocketchat:(channel|group):/, "channel:");
      },
      inferTargetChatType: ({ to }) => (/^(user:|@|rocketchat:)/.test(String(to ?? "")) ? "direct" : "channel"),
      targetResolver: {
        looksLikeId: (raw) => TARGET_RE.test(String(raw ?? "").trim()),
        hint: "channel:<roomId>, room:<roomId>, #name, @username or user:<userId>",
      },
    },
    status: {
      // The same one-time login as setup (the core's `probe` verb), plus the running
      // account's counters when this process runs it.
      probeAccount: async ({ account, cfg }) => {
        let me;
        try {
          me = await probeRocketchat(cfg, account.accountId);
        } catch (e) {
          throw new Error(`rocketchat: ${String(e?.message ?? e)}`);
        }
        const st = await getCore().status({ accountId: account.accountId });
        return { ok: true, latencyMs: me.latencyMs, serverVersion: me.serverVersion, authMode: me.authMode, bot: { id: me.userId, username: me.username }, ...(st ? { state: st.state, counters: { delivered: st.delivered, sent: st.sent, reconnects: st.reconnects, dropped: st.dropped } } : {}) };
      },
      buildAccountSnapshot: async ({ account, runtime: rtState }) => ({
        accountId: account.accountId,
        name: account.name,
        enabled: account.enabled,
        configured: account.configured,
        baseUrl: account.baseUrl,
        ...(rtState ?? {}),
      }),
    },
    gateway: {
      // The host awaits this for the account's lifetime and aborts ctx.abortSignal to stop it.
      startAccount: (ctx) => startAccount(ctx, getRocketchatRuntime),
      stopAccount,
    },
  },
  security: {
    dm: {
      channelKey: CHANNEL_ID,
      resolvePolicy: (account) => account.config.dmPolicy,
      resolveAllowFrom: (account) => account.config.allowFrom,
      defaultPolicy: "pairing",
      normalizeEntry: normalizeAllowEntry,
    },
    collectWarnings: collectSecurityWarnings,
  },
  pairing: {
    text: {
      idLabel: "rocketchatUserId",
      message: "OpenClaw: your access has been approved.",
      normalizeAllowEntry,
      notify: async ({ cfg, id, accountId, message }) => {
        const acct = accountId ?? defaultAccountId(cfg);
        await ensureAccount(cfg, acct);
        await getCore().sendText({ accountId: acct, target: `user:${normalizeAllowEntry(id)}`, text: message });
      },
    },
  },
  // OpenClaw's dispatcher applies the mode to each message of an answer (gateway.js threads them).
  threading: { resolveReplyToMode: ({ cfg, accountId, chatType }) => resolveReplyToMode(cfg, accountId, chatType) },
  outbound: {
    base: {
      // The core splits and sends; the host hands over whole texts.
      deliveryMode: "direct",
      chunker: null,
      textChunkLimit: 4000,
      resolveTarget: ({ to }) => {
        const t = String(to ?? "").trim();
        return t ? { ok: true, to: t } : { ok: false, error: new Error("rocketchat: empty target") };
      },
    },
    attachedResults: {
      channel: CHANNEL_ID,
      sendText: outboundSendText,
      sendMedia: outboundSendMedia,
    },
  },
});

export { statusPatch };
