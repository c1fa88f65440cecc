// Setup and onboarding: `openclaw channels add --channel rocketchat …` with flags (the `setup`
// adapter) and without (the interactive `setupWizard`). Both write the base URL plus a personal
// access token + user id, or a username + password, under `channels.rocketchat` (default
// account) or `channels.rocketchat.accounts.<id>`, and both log in once through the core's
// `probe` verb before anything is saved. The same fields are listed in package.json
// `openclaw.channel.setup.fields`.
import { DEFAULT_ACCOUNT_ID, WizardCancelledError, formatDocsLink, promptAccountId } from "openclaw/plugin-sdk/setup";
import { CHANNEL_ID, ENV_KEYS, defaultAccountId, listAccountIds, resolveAccount, section } from "./config.js";
import { getCore } from "./core.js";

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

const PROBE_FAILED = "rocketchatProbeFailed";

function checkInput(accountId, input) {
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
}

/**
 * Log in once with `accountId` as `cfg` describes it (ROCKETCHAT_* filling the default
 * account) and say who the bot is; nothing is started. Rejects with the core's error: its
 * message names what to fix (baseUrl, authToken/userId, username/password), never a secret.
 */
export async function probeRocketchat(cfg, accountId) {
  return getCore().probe({ accountId, config: section(cfg), useProcessEnv: true });
}

/**
 * Check exactly the credentials a person typed for `accountId`: the account's other settings
 * (TLS, …) as `cfg` gives them, but none of the other login kind it would inherit from the top
 * level or the environment, so a wrong password is not hidden by an inherited token.
 */
function probeTyped(cfg, accountId, fields) {
  const { accounts: _a, defaultAccount: _d, ...config } = resolveAccount(cfg, accountId, {}).config;
  const drop = fields.authToken ? ["username", "password"] : ["authToken", "userId"];
  for (const k of drop) delete config[k];
  return getCore().probe({ accountId: DEFAULT_ACCOUNT_ID, config, useProcessEnv: false });
}

const probeMessage = (e) => `Rocket.Chat login check failed: ${String(e?.message ?? e).replace(/^account \S+: /, "")}`;

export const rocketchatSetup = {
  // The top level is the default account and the base named accounts inherit: adding a named
  // account must not move it into accounts.default.
  configPromotion: "preserve-root",
  resolveAccountId: ({ accountId }) => accountId?.trim() || DEFAULT_ACCOUNT_ID,
  // The one async step before the host validates and writes: the probe. A failure is handed
  // to validateInput, which the host prints as a plain error without writing anything.
  prepareAccountConfigInput: async ({ cfg, accountId, input }) => {
    if (checkInput(accountId, input)) return input;
    try {
      const candidate = applyFields(cfg, accountId, input);
      await (input.useEnv ? probeRocketchat(candidate, accountId) : probeTyped(candidate, accountId, fieldsFrom(input)));
      return input;
    } catch (e) {
      return { ...input, [PROBE_FAILED]: probeMessage(e) };
    }
  },
  validateInput: ({ accountId, input }) => checkInput(accountId, input) ?? input?.[PROBE_FAILED] ?? null,
  applyAccountName: ({ cfg, accountId, name }) => patchAccount(cfg, accountId, name ? { name } : {}),
  applyAccountConfig: ({ cfg, accountId, input }) => applyFields(cfg, accountId, input),
};

function applyFields(cfg, accountId, input) {
  return patchAccount(cfg, accountId, { enabled: true, ...(input?.useEnv ? {} : fieldsFrom(input)), ...(input?.name ? { name: input.name } : {}) });
}

function patchAccount(cfg, accountId, fields) {
  const channels = { ...(cfg.channels ?? {}) };
  const root = { ...(channels[CHANNEL_ID] ?? {}) };
  if (!accountId || accountId === DEFAULT_ACCOUNT_ID) Object.assign(root, fields);
  else root.accounts = { ...(root.accounts ?? {}), [accountId]: { ...(root.accounts?.[accountId] ?? {}), ...fields } };
  for (const target of [root, root.accounts?.[accountId]]) {
    for (const [k, v] of Object.entries(target ?? {})) if (v === undefined) delete target[k];
  }
  channels[CHANNEL_ID] = root;
  return { ...cfg, channels };
}

const envGiven = (env = process.env) => Boolean(env[ENV_KEYS.baseUrl]?.trim() && ((env[ENV_KEYS.authToken]?.trim() && env[ENV_KEYS.userId]?.trim()) || (env[ENV_KEYS.username]?.trim() && env[ENV_KEYS.password]?.trim())));

const required = (what) => (v) => (String(v ?? "").trim() ? undefined : `${what} is required`);

/** The questions, in order: URL, then a token + user id or a username + password. */
async function askCredentials(prompter, current) {
  const baseUrl = (
    await prompter.text({
      message: "Rocket.Chat server URL",
      placeholder: "https://chat.example.com",
      initialValue: current.baseUrl,
      validate: (v) => checkInput(DEFAULT_ACCOUNT_ID, { url: v, token: "t", userId: "u" }) ?? undefined,
    })
  ).trim();
  const mode = await prompter.select({
    message: "How should the bot log in?",
    options: [
      { value: "token", label: "Personal access token + user id", hint: "My Account → Personal Access Tokens" },
      { value: "password", label: "Username + password", hint: "logs in through /api/v1/login" },
    ],
    initialValue: current.authMode === "password" ? "password" : "token",
  });
  if (mode === "token") {
    const authToken = (await prompter.text({ message: "Personal access token", sensitive: true, validate: required("The token") })).trim();
    const userId = (await prompter.text({ message: "Bot user id (shown with the token)", initialValue: current.userId, validate: required("The user id") })).trim();
    return { baseUrl, authToken, userId };
  }
  const username = (await prompter.text({ message: "Bot username", initialValue: current.username, validate: required("The username") })).trim();
  const password = (await prompter.text({ message: "Password", sensitive: true, validate: required("The password") })).trim();
  return { baseUrl, username, password };
}

// The interactive wizard (OpenClaw's imperative ChannelSetupWizardAdapter): the declarative
// form cannot repeat the questions when the probe fails, which a person at a prompt needs.
export const rocketchatSetupWizard = {
  channel: CHANNEL_ID,
  getStatus: async ({ cfg, accountOverrides }) => {
    const accountId = accountOverrides?.[CHANNEL_ID] ?? defaultAccountId(cfg);
    const a = resolveAccount(cfg, accountId);
    return {
      channel: CHANNEL_ID,
      configured: a.configured,
      statusLines: [`Rocket.Chat: ${a.configured ? `configured (${a.baseUrl}, ${a.authMode === "token" ? "personal access token" : "password"})` : "needs a server URL and bot credentials"}`],
      selectionHint: a.configured ? "configured" : "self-hosted team chat",
      quickstartScore: a.configured ? 1 : 0,
    };
  },
  configure: async ({ cfg, prompter, accountOverrides, shouldPromptAccountIds }) => {
    const fallback = defaultAccountId(cfg);
    let accountId = accountOverrides?.[CHANNEL_ID] ?? fallback;
    if (shouldPromptAccountIds && !accountOverrides?.[CHANNEL_ID]) {
      accountId = await promptAccountId({ cfg, prompter, label: "Rocket.Chat", currentId: accountId, listAccountIds: (c) => listAccountIds(c), defaultAccountId: fallback });
    }
    let next = cfg;
    if (accountId === DEFAULT_ACCOUNT_ID && envGiven()) {
      const useEnv = await prompter.confirm({
        message: `${ENV_KEYS.baseUrl} and the bot's credentials are set in the environment. Use them?`,
        initialValue: true,
      });
      if (useEnv) {
        const candidate = applyFields(cfg, accountId, { useEnv: true });
        if (await probed(prompter, () => probeRocketchat(candidate, accountId))) return { cfg: candidate, accountId };
      }
    } else {
      await prompter.note(
        ["The bot needs its own Rocket.Chat user (the `bot` role spares it the REST rate limits).", "Give a personal access token + user id, or the bot's username + password.", `Docs: ${formatDocsLink("/channels/rocketchat", "rocketchat")}`].join("\n"),
        "Rocket.Chat",
      );
    }
    for (;;) {
      const fields = await askCredentials(prompter, resolveAccount(next, accountId).config);
      const candidate = patchAccount(cfg, accountId, { enabled: true, ...dropOtherMode(fields) });
      if (await probed(prompter, () => probeTyped(candidate, accountId, fields))) return { cfg: candidate, accountId };
      next = candidate;
      if (!(await prompter.confirm({ message: "Try again?", initialValue: true }))) {
        throw new WizardCancelledError("Rocket.Chat setup cancelled: the server did not accept the details given");
      }
    }
  },
  disable: (cfg) => patchAccount(cfg, DEFAULT_ACCOUNT_ID, { enabled: false }),
};

// Switching from password to token (or back) must not leave the old pair behind to be tried.
function dropOtherMode(fields) {
  return fields.authToken ? { ...fields, username: undefined, password: undefined } : { ...fields, authToken: undefined, userId: undefined };
}

async function probed(prompter, probe) {
  const progress = prompter.progress("Checking the Rocket.Chat login");
  try {
    const me = await probe();
    progress.stop(`Logged in to ${me.baseUrl} (Rocket.Chat ${me.serverVersion}) as @${me.username}`);
    return true;
  } catch (e) {
    progress.stop("Rocket.Chat login check failed");
    await prompter.note(probeMessage(e), "Rocket.Chat");
    return false;
  }
}
