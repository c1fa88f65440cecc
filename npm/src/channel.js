// SKELETON of the Rocket.Chat ChannelPlugin object.
//
// Shape follows the OpenClaw 2026.9.x plugin SDK (see ../OPENCLAW-INTERFACES.md). Only pure config
// reading is implemented, because the host calls it while listing/validating plugins. Everything
// that would talk to Rocket.Chat is a stub that throws until the napi-rs binding of the Rust core
// (bindings/node) exists and is wired in here.
import { createChannelPluginBase, createChatChannelPlugin } from "openclaw/plugin-sdk/channel-core";

export const CHANNEL_ID = "rocketchat";
export const DEFAULT_ACCOUNT_ID = "default";

export class NativeCoreMissingError extends Error {
  constructor(what) {
    super(`rocketchat: native core not built yet (${what}); this package is a skeleton`);
    this.name = "NativeCoreMissingError";
  }
}
const notBuilt = (what) => async () => {
  throw new NativeCoreMissingError(what);
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
};

// --- placeholder config reading (no I/O, no secrets resolution) ---------------------------------
// The real resolution (account inheritance, ROCKETCHAT_* env for the default account, validation)
// lives in the Rust core (src/config/); the binding should replace these three functions.
function section(cfg) {
  return cfg?.channels?.[CHANNEL_ID] ?? {};
}

export function listAccountIds(cfg) {
  const named = Object.keys(section(cfg).accounts ?? {});
  return [DEFAULT_ACCOUNT_ID, ...named.filter((id) => id !== DEFAULT_ACCOUNT_ID)];
}

export function resolveAccount(cfg, accountId) {
  const root = section(cfg);
  const id = accountId ?? root.defaultAccount ?? DEFAULT_ACCOUNT_ID;
  const { accounts: _accounts, ...base } = root;
  const config = { ...base, ...(root.accounts?.[id] ?? {}) };
  return {
    accountId: id,
    name: config.name,
    enabled: config.enabled !== false,
    baseUrl: config.baseUrl,
    config,
  };
}

function isConfigured(account) {
  const c = account.config;
  return Boolean(account.baseUrl && ((c.authToken && c.userId) || (c.username && c.password)));
}

export const rocketchatPlugin = createChatChannelPlugin({
  base: {
    ...createChannelPluginBase({
      id: CHANNEL_ID,
      meta: rocketchatMeta,
      capabilities: {
        chatTypes: ["direct", "channel", "group", "thread"],
        threads: true,
        media: true,
      },
      streaming: { blockStreamingCoalesceDefaults: { minChars: 1500, idleMs: 1000 } },
      reload: { configPrefixes: [`channels.${CHANNEL_ID}`] },
      config: {
        listAccountIds,
        resolveAccount,
        defaultAccountId: (cfg) => section(cfg).defaultAccount ?? DEFAULT_ACCOUNT_ID,
        inspectAccount: (cfg, accountId) => {
          const account = resolveAccount(cfg, accountId);
          return { accountId: account.accountId, enabled: account.enabled, configured: isConfigured(account) };
        },
        isEnabled: (account) => account.enabled,
        isConfigured,
        describeAccount: (account) => ({
          accountId: account.accountId,
          name: account.name,
          enabled: account.enabled,
          configured: isConfigured(account),
        }),
        resolveAllowFrom: ({ cfg, accountId }) => resolveAccount(cfg, accountId).config.allowFrom,
      },
    }),
    messaging: {
      targetPrefixes: [CHANNEL_ID],
      directTargetStyle: "user-prefixed",
      targetIdComparison: "case-sensitive",
    },
    status: {
      probeAccount: notBuilt("status.probeAccount"),
    },
    gateway: {
      // The host awaits this for the account's lifetime and aborts ctx.abortSignal to stop it.
      startAccount: notBuilt("gateway.startAccount"),
    },
  },
  security: {
    dm: {
      channelKey: CHANNEL_ID,
      resolvePolicy: (account) => account.config.dmPolicy,
      resolveAllowFrom: (account) => account.config.allowFrom,
      defaultPolicy: "pairing",
    },
  },
  pairing: {
    text: {
      idLabel: "rocketchatUserId",
      message: "OpenClaw: your access has been approved.",
      notify: notBuilt("pairing.notify"),
    },
  },
  threading: { topLevelReplyToMode: "all" },
  outbound: {
    deliveryMode: "direct",
    chunkerMode: "markdown",
    textChunkLimit: 4000,
    sendText: notBuilt("outbound.sendText"),
    sendMedia: notBuilt("outbound.sendMedia"),
  },
});
