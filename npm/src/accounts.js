// `openclaw channels disable|remove` for Rocket.Chat accounts, through OpenClaw's own config
// helpers. The one Rocket.Chat twist: the top level is both the default account and the base
// every named account inherits, so removing the default account first copies what a named
// account inherited (URL, credentials) into it, and the named accounts keep working.
import { deleteAccountFromConfigSection, setAccountEnabledInConfigSection } from "openclaw/plugin-sdk/core";
import { CHANNEL_ID, CONNECTION_KEYS, DEFAULT_ACCOUNT_ID, section } from "./config.js";

const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);

export function setAccountEnabled({ cfg, accountId, enabled }) {
  // With no named accounts the default account is the top level; otherwise the helper writes
  // `accounts.<id>.enabled` (`accounts.default` for the default one), which only that account reads.
  return setAccountEnabledInConfigSection({ cfg, sectionKey: CHANNEL_ID, accountId: accountId || DEFAULT_ACCOUNT_ID, enabled, allowTopLevel: true });
}

export function deleteAccount({ cfg, accountId }) {
  const id = accountId || DEFAULT_ACCOUNT_ID;
  let next = cfg;
  const root = section(cfg);
  if (id === DEFAULT_ACCOUNT_ID && isObj(root.accounts)) {
    const accounts = {};
    for (const [name, acc] of Object.entries(root.accounts)) {
      if (name === DEFAULT_ACCOUNT_ID || !isObj(acc)) {
        accounts[name] = acc;
        continue;
      }
      const inherited = Object.fromEntries(CONNECTION_KEYS.filter((k) => root[k] !== undefined && acc[k] === undefined).map((k) => [k, root[k]]));
      accounts[name] = { ...inherited, ...acc };
    }
    next = { ...cfg, channels: { ...cfg.channels, [CHANNEL_ID]: { ...root, accounts } } };
  }
  next = deleteAccountFromConfigSection({ cfg: next, sectionKey: CHANNEL_ID, accountId: id, clearBaseFields: [...CONNECTION_KEYS, "name"] });
  // The helper leaves cleared keys as `undefined`; drop them so the written file has none.
  const s = next.channels?.[CHANNEL_ID];
  if (isObj(s)) for (const [k, v] of Object.entries(s)) if (v === undefined) delete s[k];
  return next;
}
