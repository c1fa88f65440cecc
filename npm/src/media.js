// Files people send: each one is downloaded by the core (the account's credentials, the server's
// origin only, `mediaMaxMb`), saved in OpenClaw's media store, and handed to the agent as the
// host's media fields (MediaPath(s)/MediaUrl(s)/MediaType(s)) with a `<media:…>` placeholder when
// the message has no text. A file that cannot be fetched is logged and named in a short note; the
// message still reaches the agent.
import {
  buildChannelInboundMediaPayload,
  formatInboundMediaUnavailableText,
  formatMediaPlaceholderText,
  toInboundMediaFacts,
} from "openclaw/plugin-sdk/channel-inbound";
import { getCore } from "./core.js";

const KINDS = { image: "image", audio: "audio", video: "video", file: "document" };

/** The files of a message, each once: uploads among the attachments, else the `files` list. */
export function inboundFiles(m) {
  const seen = new Set();
  const out = [];
  const add = (url, name, mime, kind) => {
    if (!url || seen.has(url)) return;
    seen.add(url);
    out.push({ url, name: name || undefined, mime: mime || undefined, kind });
  };
  for (const a of m.attachments ?? []) {
    if (a.kind !== "other") add(a.url, a.title, a.mimeType, KINDS[a.kind]);
  }
  // `files` also lists thumbnails of the uploads above: only used when no attachment describes them.
  if (!out.length) {
    for (const f of m.files ?? []) {
      if (!f.id || /^thumb-/.test(f.name ?? "")) continue;
      add(`/file-upload/${encodeURIComponent(f.id)}/${encodeURIComponent(f.name ?? f.id)}`, f.name, f.mimeType);
    }
  }
  return out;
}

// What a failure means to the person who sent the file.
function reasonOf(err) {
  const code = err?.code ?? "";
  const msg = String(err?.message ?? err);
  if (code === "TOO_LARGE" || /too large|TOO_LARGE/i.test(msg)) return "too large";
  if (/foreign|origin/i.test(msg)) return "not on this server";
  if (code === "FORBIDDEN" || /forbidden|403|401/i.test(msg)) return "not allowed";
  return "could not be downloaded";
}

/**
 * The agent's text and media fields for message `m` whose text for the agent is `text`:
 * `{ text, payload }`, `payload` to spread into the inbound context.
 */
export async function resolveInboundMedia(state, m, text) {
  const files = inboundFiles(m);
  if (!files.length) return { text, payload: {} };
  const { rt, accountId, log } = state;
  const saved = [];
  const failed = [];
  for (const f of files) {
    const label = f.name ?? f.url.split("/").pop();
    try {
      const got = await getCore().download({ accountId, url: f.url, roomId: m.roomId });
      const buffer = Buffer.from(got.base64 ?? "", "base64");
      const contentType = got.contentType?.split(";")[0].trim() || f.mime;
      const fileName = f.name ?? got.fileName;
      // The core already applied `mediaMaxMb`: the store takes the file as it is.
      const s = await rt.channel.media.saveMediaBuffer(buffer, contentType, "inbound", Math.max(buffer.length, 1), fileName);
      saved.push({ path: s.path, contentType: s.contentType ?? contentType, fileName, kind: f.kind, messageId: m.messageId });
    } catch (err) {
      const reason = reasonOf(err);
      log?.warn?.(`rocketchat: file "${label}" in ${m.roomId} (message ${m.messageId}) skipped: ${reason} (${String(err?.message ?? err)})`);
      failed.push(`${label}: ${reason}`);
    }
  }
  const facts = toInboundMediaFacts(saved);
  let out = text.trim() ? text : formatMediaPlaceholderText(facts);
  if (failed.length) {
    const notice = `[rocketchat: ${failed.length > 1 ? `${failed.length} files` : "file"} not available (${failed.join("; ")})]`;
    out = formatInboundMediaUnavailableText({ body: out, notice });
  }
  return { text: out, payload: facts.length ? { media: facts, ...buildChannelInboundMediaPayload(facts) } : {} };
}
