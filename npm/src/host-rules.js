// The host's rules the core's gate needs from OpenClaw's config, and OpenClaw's command gate.
// The core gates; these only translate what OpenClaw decides elsewhere in its config:
// - `channels.defaults.groupPolicy`: the policy when no rocketchat layer sets one;
// - the agent's mention patterns (`messages.groupChat.mentionPatterns`, the agent's own
//   `groupChat.mentionPatterns`, or its identity's name): handed to the core as
//   `mentionPatterns`, after the account's own;
// - text control commands (`/reset`, …): OpenClaw's `hasControlCommand`,
//   `shouldHandleTextCommands` and `commands.useAccessGroups` decide what is a command and who
//   may run it, with the core's allowlist verdict as the authorizer.
import { buildMentionRegexes } from "openclaw/plugin-sdk/channel-inbound";
import { hasControlCommand, resolveControlCommandGate, shouldHandleTextCommands } from "openclaw/plugin-sdk/command-auth";
import { resolveAgentRoute } from "openclaw/plugin-sdk/routing";
import { resolveDefaultGroupPolicy } from "openclaw/plugin-sdk/runtime-group-policy";
import { CHANNEL_ID, DEFAULT_ACCOUNT_ID, resolveAccount, section } from "./config.js";
import { loadNative } from "./native.js";

const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);

/** The agent that answers this account's group messages (its mention patterns apply). */
function accountAgentId(cfg, accountId) {
  try {
    return resolveAgentRoute({ cfg, channel: CHANNEL_ID, accountId, peer: { kind: "channel", id: "" } }).agentId;
  } catch {
    return undefined; // no agents configured: OpenClaw's global patterns only
  }
}

// Whether the core's regex engine takes `pattern` (it has no lookaround, which OpenClaw's
// patterns derived from an agent's name use): asked of the core's own config check.
const usable = new Map();
function coreAccepts(pattern) {
  if (!usable.has(pattern)) {
    let ok = true;
    try {
      loadNative().RocketChatCore.describeConfig({ baseUrl: "http://localhost", authToken: "x", userId: "x", mentionPatterns: [pattern] }, {});
    } catch {
      ok = false;
    }
    usable.set(pattern, ok);
  }
  return usable.get(pattern);
}

/**
 * OpenClaw's mention patterns for the account's agent, as regex sources the core can use;
 * the others are reported through `warn` (as OpenClaw itself skips patterns it cannot compile).
 */
export function hostMentionPatterns(cfg, accountId, warn) {
  const sources = buildMentionRegexes(cfg, accountAgentId(cfg, accountId)).map((re) => re.source);
  return sources.filter((p) => {
    if (coreAccepts(p)) return true;
    warn?.(`OpenClaw mention pattern ${JSON.stringify(p)} uses regex features the Rocket.Chat core lacks (lookaround, backreferences): it does not count as a mention here; set messages.groupChat.mentionPatterns (or channels.rocketchat.mentionPatterns) to a plain pattern such as "\\bname\\b"`);
    return false;
  });
}

/**
 * The `channels.rocketchat` section the core reads for `accountId`: as written, plus
 * `groupPolicy` from `channels.defaults` when the section sets none at the top level (an
 * account's own still wins), and OpenClaw's mention patterns after the account's own.
 */
export function coreSection(cfg, accountId, warn) {
  const out = { ...section(cfg) };
  const defaultPolicy = resolveDefaultGroupPolicy(cfg ?? {});
  if (out.groupPolicy === undefined && defaultPolicy !== undefined) out.groupPolicy = defaultPolicy;
  const host = hostMentionPatterns(cfg, accountId, warn);
  if (host.length) {
    const own = resolveAccount(cfg, accountId).config.mentionPatterns;
    const patterns = [...new Set([...(Array.isArray(own) ? own : []), ...host])];
    if (accountId === DEFAULT_ACCOUNT_ID || !isObj(out.accounts?.[accountId])) out.mentionPatterns = patterns;
    else out.accounts = { ...out.accounts, [accountId]: { ...out.accounts[accountId], mentionPatterns: patterns } };
  }
  return out;
}

/**
 * The text of a delivered message for OpenClaw: the trigger's body, or the message's text when
 * the core left the body out because it is the same. A command typed with the account's
 * `commandPrefix` (`!reset`) arrives as `/reset`, with `typedAs` the text before that rewrite: a
 * word OpenClaw does not know as a command is read as the sender typed it.
 */
export function messageText(cfg, trigger, text = "") {
  const body = trigger?.body ?? text ?? "";
  if (typeof trigger?.typedAs === "string" && !hasControlCommand(body, cfg)) return trigger.typedAs;
  return body;
}

/**
 * OpenClaw's verdict on a delivered message's text command. `drop` when the host blocks it
 * (not authorised) or when the core admitted it to a group only as a command
 * (`reason: "controlCommand"`) and the host does not know it as one.
 */
export function commandAccess({ cfg, kind, text, trigger, listsConfigured }) {
  const allowTextCommands = shouldHandleTextCommands({ cfg, surface: CHANNEL_ID });
  const isCommand = hasControlCommand(text, cfg);
  const gate = resolveControlCommandGate({
    useAccessGroups: cfg?.commands?.useAccessGroups !== false,
    // The core's verdict: the sender is in the effective DM or group allowlist (store included).
    authorizers: [{ configured: listsConfigured, allowed: Boolean(trigger.commandAuthorized) }],
    allowTextCommands,
    hasControlCommand: isCommand,
  });
  const command = allowTextCommands && isCommand;
  const group = kind !== "direct";
  // In a DM the policy already admitted the sender: the allowlist verdict is the authorisation.
  const commandAuthorized = group ? gate.commandAuthorized : Boolean(trigger.commandAuthorized);
  let drop;
  if (group && gate.shouldBlock) drop = "control command (unauthorized)";
  else if (group && trigger.reason === "controlCommand" && !command) drop = "not a control command (no mention)";
  return { drop, command, commandAuthorized };
}
