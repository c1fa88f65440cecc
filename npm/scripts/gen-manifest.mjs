#!/usr/bin/env node
// Writes openclaw.plugin.json: the channel config JSON Schema comes from the native core
// (RocketChatCore.configSchema(), i.e. src/config/schema.rs), the UI hints from below.
//   node npm/scripts/gen-manifest.mjs          # rewrite
//   node npm/scripts/gen-manifest.mjs --check  # exit 1 when the committed file drifted
// Needs the native module (bindings/node/build.sh, or ROCKETCHAT_NODE_BINDING).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadNative } from "../src/native.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "..", "openclaw.plugin.json");
const pkg = JSON.parse(readFileSync(path.join(here, "..", "package.json"), "utf8"));

const uiHints = {
  "": { label: "Rocket.Chat", help: "Rocket.Chat channel: server URL, bot credentials, access policy, threads and reply streaming." },
  baseUrl: { label: "Server URL", help: "Base URL of the Rocket.Chat server, e.g. https://chat.example.com (env ROCKETCHAT_URL for the default account).", placeholder: "https://chat.example.com" },
  authToken: { label: "Personal access token", help: "PAT of the bot user (recommended; env ROCKETCHAT_AUTH_TOKEN). Use with userId.", sensitive: true },
  userId: { label: "Bot user id", help: "User id that owns the access token (env ROCKETCHAT_USER_ID)." },
  username: { label: "Bot username", help: "For password login instead of a token (env ROCKETCHAT_USERNAME)." },
  password: { label: "Bot password", help: "For password login (env ROCKETCHAT_PASSWORD). Prefer a personal access token.", sensitive: true },
  dmPolicy: { label: "DM policy", help: "Direct message access: \"pairing\" (default, unknown senders get a pairing code), \"allowlist\", \"open\" or \"disabled\"." },
  allowFrom: { label: "DM allowlist", help: "User ids or usernames allowed to DM the bot (\"*\" for everyone); approved pairing requests are added at run time." },
  groupPolicy: { label: "Group policy", help: "Channels and private groups: \"allowlist\" (default), \"open\" or \"disabled\"." },
  groupAllowFrom: { label: "Group allowlist", help: "Senders allowed in channels/groups (falls back to allowFrom when empty)." },
  requireMention: { label: "Require mention", help: "In channels/groups, answer only when @mentioned (default true)." },
  chatmode: { label: "Chat mode", help: "\"oncall\" (mention), \"onmessage\" (every message) or \"onchar\" (prefix, see oncharPrefixes)." },
  textChunkLimit: { label: "Message size limit", help: "Longer replies are split into several messages (default 4000 chars)." },
  blockStreaming: { label: "Block streaming", help: "Send long replies in blocks as they are generated (coalesced, see blockStreamingCoalesce)." },
  accounts: { label: "Accounts", help: "Named extra accounts; each inherits the top-level keys." },
  "twoFactor.totpCode": { label: "2FA code", help: "One-shot TOTP code for password login of a 2FA account.", sensitive: true },
};

const { RocketChatCore } = loadNative();
const schema = RocketChatCore.configSchema();
// OpenClaw validates channel sections with its own draft-07 validator: keep the body, drop the dialect tag.
delete schema.$schema;

const manifest = {
  id: "rocketchat",
  categories: ["channels"],
  name: "Rocket.Chat",
  description: pkg.description,
  activation: { onStartup: false },
  channels: ["rocketchat"],
  configSchema: { type: "object", additionalProperties: false, properties: {} },
  channelConfigs: {
    rocketchat: {
      label: "Rocket.Chat",
      description: "self-hosted team chat over DDP/REST",
      schema,
      uiHints,
    },
  },
};
const text = JSON.stringify(manifest, null, 2) + "\n";
if (process.argv.includes("--check")) {
  const current = readFileSync(out, "utf8");
  if (current !== text) {
    console.error("npm/openclaw.plugin.json is out of date: run node npm/scripts/gen-manifest.mjs");
    process.exit(1);
  }
  console.log("openclaw.plugin.json up to date");
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
