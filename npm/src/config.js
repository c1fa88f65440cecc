// Pure reading of `channels.rocketchat` for the host's config adapter (listing, status, doctor).
// No I/O and no throwing: validation is the native core's job (`applyConfig` rejects with every
// problem). The rules are the core's (src/config/resolve.rs), checked case by case against
// the core's own reading by tests/node/config-drift.test.mjs (tests/contract/config-cases.json):
// - the top-level keys are the `default` account and the base every `accounts.<id>` inherits;
//   an `accounts.default` entry is layered over them for the default account only;
// - the `default` account exists when the top level or the environment gives a baseUrl or
//   credentials; ROCKETCHAT_* fill the default account only, config values win.
export const CHANNEL_ID = "rocketchat";
export const DEFAULT_ACCOUNT_ID = "default";
export const ENV_KEYS = {
  baseUrl: "ROCKETCHAT_URL",
  authToken: "ROCKETCHAT_AUTH_TOKEN",
  userId: "ROCKETCHAT_USER_ID",
  username: "ROCKETCHAT_USERNAME",
  password: "ROCKETCHAT_PASSWORD",
};
const CREDENTIAL_KEYS = ["baseUrl", "authToken", "userId", "username", "password"];

export function section(cfg) {
  const s = cfg?.channels?.[CHANNEL_ID];
  return s && typeof s === "object" ? s : {};
}

const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);
const envValue = (env, key) => {
  const v = env?.[ENV_KEYS[key]];
  return typeof v === "string" && v.trim() ? v.trim() : undefined;
};

function hasDefaultAccount(root, env) {
  if (isObj(root.accounts) && isObj(root.accounts[DEFAULT_ACCOUNT_ID])) return true;
  return CREDENTIAL_KEYS.some((k) => root[k] !== undefined || envValue(env, k) !== undefined);
}

export function listAccountIds(cfg, env = process.env) {
  const root = section(cfg);
  const named = Object.keys(isObj(root.accounts) ? root.accounts : {}).filter((id) => id !== DEFAULT_ACCOUNT_ID);
  const ids = hasDefaultAccount(root, env) || named.length === 0 ? [DEFAULT_ACCOUNT_ID] : [];
  return [...ids, ...named];
}

export function defaultAccountId(cfg, env = process.env) {
  const root = section(cfg);
  const ids = listAccountIds(cfg, env);
  if (typeof root.defaultAccount === "string" && ids.includes(root.defaultAccount)) return root.defaultAccount;
  return ids[0] ?? DEFAULT_ACCOUNT_ID;
}

// Nested objects merge key by key (as in the core); arrays and scalars replace.
function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    out[k] = isObj(v) && isObj(out[k]) ? merge(out[k], v) : v;
  }
  return out;
}

export function resolveAccount(cfg, accountId, env = process.env) {
  const root = section(cfg);
  const id = accountId ?? defaultAccountId(cfg, env);
  const { accounts, defaultAccount: _d, ...base } = root;
  // `accounts.default`, when present, is layered over the top level for the default account.
  let config = merge(base, isObj(accounts) ? accounts[id] : undefined);
  const fromEnv = [];
  if (id === DEFAULT_ACCOUNT_ID) {
    for (const k of CREDENTIAL_KEYS) {
      if (config[k] === undefined && envValue(env, k) !== undefined) {
        config = { ...config, [k]: envValue(env, k) };
        fromEnv.push(ENV_KEYS[k]);
      }
    }
  }
  // OpenClaw's shared default, as the core gets it (host-rules.js coreSection).
  const defaultGroupPolicy = cfg?.channels?.defaults?.groupPolicy;
  if (config.groupPolicy === undefined && defaultGroupPolicy !== undefined) config = { ...config, groupPolicy: defaultGroupPolicy };
  const tokenAuth = Boolean(config.authToken && config.userId);
  const passwordAuth = Boolean(config.username && config.password);
  return {
    accountId: id,
    name: typeof config.name === "string" ? config.name : undefined,
    enabled: config.enabled !== false,
    baseUrl: typeof config.baseUrl === "string" ? config.baseUrl : undefined,
    configured: Boolean(config.baseUrl && (tokenAuth || passwordAuth)),
    authMode: tokenAuth ? "token" : passwordAuth ? "password" : "none",
    credentialSource: fromEnv.length ? "env" : "config",
    config,
  };
}

/** Allowlist entries as the host shows them (`rocketchat:`/`user:` prefixes dropped). */
export function normalizeAllowEntry(entry) {
  return String(entry).trim().replace(/^(rocketchat|user):/i, "");
}

export const CONNECTION_KEYS = CREDENTIAL_KEYS;
