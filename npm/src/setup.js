// Setup/onboarding (`openclaw channels add --channel rocketchat …`): base URL plus either a
// personal access token + user id or a username + password, written under
// `channels.rocketchat` (default account) or `channels.rocketchat.accounts.<id>`.
// The same fields are listed in package.json `openclaw.channel.setup.fields`.
import { CHANNEL_ID, DEFAULT_ACCOUNT_ID, ENV_KEYS } from "./config.js";

const pick = (input, ...keys) => {
  for (const k of keys) {
    const v = input?.[k];
    if (typeof v === "string" && v.trim()) return v.trim();
  }
  return undefined;
};

function fieldsFrom(input) {
  const out = {
    baseUrl: pick(input, "baseUrl", "url", "httpUrl"),
    authToken: pick(input, "authToken", "token", "accessToken", "botToken"),
    userId: pick(input, "userId"),
    username: pick(input, "username"),
    password: pick(input, "password"),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export const rocketchatSetup = {
  resolveAccountId: ({ accountId }) => accountId?.trim() || DEFAULT_ACCOUNT_ID,
  validateInput: ({ accountId, input }) => {
    if (input?.useEnv) {
      return accountId === DEFAULT_ACCOUNT_ID ? null : `${ENV_KEYS.baseUrl} and the other ROCKETCHAT_* variables apply to the default account only`;
    }
    const f = fieldsFrom(input);
    if (!f.baseUrl) return "Rocket.Chat needs --url (the server's base URL, e.g. https://chat.example.com)";
    if (!/^https?:\/\//i.test(f.baseUrl)) return "the Rocket.Chat URL must start with http:// or https://";
    if (!(f.authToken && f.userId) && !(f.username && f.password)) {
      return "Rocket.Chat needs --token with --user-id (a personal access token), or --username with --password";
    }
    return null;
  },
  applyAccountName: ({ cfg, accountId, name }) => patchAccount(cfg, accountId, name ? { name } : {}),
  applyAccountConfig: ({ cfg, accountId, input }) =>
    patchAccount(cfg, accountId, { enabled: true, ...(input?.useEnv ? {} : fieldsFrom(input)), ...(input?.name ? { name: input.name } : {}) }),
};

function patchAccount(cfg, accountId, fields) {
  const channels = { ...(cfg.channels ?? {}) };
  const root = { ...(channels[CHANNEL_ID] ?? {}) };
  if (!accountId || accountId === DEFAULT_ACCOUNT_ID) Object.assign(root, fields);
  else root.accounts = { ...(root.accounts ?? {}), [accountId]: { ...(root.accounts?.[accountId] ?? {}), ...fields } };
  channels[CHANNEL_ID] = root;
  return { ...cfg, channels };
}

// No interactive wizard object yet: `setup` above covers `channels add` with flags.
export const rocketchatSetupWizard = undefined;
