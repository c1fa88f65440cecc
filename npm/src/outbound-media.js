// Files the agent sends: each media reference of a reply (a local path or a URL) is read by the
// host's own outbound media loader (local paths only inside the allowed media roots, remote URLs
// through the host's fetch and its SSRF rules, the account's `mediaMaxMb` as the cap) and uploaded
// by the core's `sendMedia`, the reply text as the first upload's caption. A reference that cannot
// be sent is logged with the reason and named (file name only) in a short note after the text.
import { getAgentScopedMediaLocalRoots } from "openclaw/plugin-sdk/media-local-roots";
import { loadOutboundMediaFromUrl } from "openclaw/plugin-sdk/outbound-media";
import { getCore } from "./core.js";

const DEFAULT_MEDIA_MAX_MB = 8;

/** The roots the host allows an agent's local media reads from (temp root, media store, workspace). */
export function replyMediaRoots(cfg, agentId) {
  return getAgentScopedMediaLocalRoots(cfg, agentId);
}

// A reference's file name for notes and logs: never its directory, query or content.
export function mediaName(ref) {
  let p = String(ref);
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) p = decodeURIComponent(new URL(p).pathname);
  } catch {
    // not a URL after all: use it as a path
  }
  return p.split(/[\\/]/).filter(Boolean).pop() || "file";
}

// Why a reference was not sent, in the words of the person configuring the bot.
export function refusalReason(err) {
  const code = err?.code ?? "";
  const msg = String(err?.message ?? err ?? "");
  if (code === "path-not-allowed" || code === "network-path-not-allowed" || code === "unsafe-bypass" || code === "invalid-root") {
    return "outside the folders OpenClaw allows media from (its temp folder, media store and the agent's workspace)";
  }
  if (code === "not-found") return "not found";
  if (code === "not-file") return "not a file";
  if (code === "unsupported-media-type") return "not a media or document type OpenClaw sends from local files";
  if (/exceeds .*limit|too large|max.?bytes/i.test(msg)) return "over the size cap (mediaMaxMb)";
  if (/ssrf|private|blocked|internal|loopback|not allowed/i.test(msg) || err?.name === "SsrFBlockedError") {
    return "its address is blocked by OpenClaw's network rules (private or internal address)";
  }
  if (err?.name === "MediaFetchError" || /fetch|HTTP \d{3}/i.test(msg)) return `could not be downloaded (${msg.slice(0, 120)})`;
  return "could not be read";
}

/**
 * Send a reply's media: load each reference through the host, upload what loaded (the caption on
 * the first), and tell the room which files were not sent. `access` is the host's
 * `{ mediaAccess, mediaLocalRoots, mediaReadFile }` (the reply path passes the agent's roots).
 */
export async function sendMediaReply({ accountId, target, threadId, refs, caption, access, mediaMaxMb, log }) {
  const maxBytes = Math.round((mediaMaxMb ?? DEFAULT_MEDIA_MAX_MB) * 1024 * 1024);
  const files = [];
  const refused = [];
  for (const ref of refs) {
    try {
      const media = await loadOutboundMediaFromUrl(ref, { maxBytes, ...access });
      files.push({
        base64: media.buffer.toString("base64"),
        fileName: media.fileName || mediaName(ref),
        mime: media.contentType ?? undefined,
      });
    } catch (err) {
      const name = mediaName(ref);
      const reason = refusalReason(err);
      log?.warn?.(`rocketchat: not sending ${name} from the agent's reply: ${reason}`);
      refused.push(`${name}: ${reason.replace(/ \(.*$/, "")}`);
    }
  }
  const note = refused.length ? `(not sent: ${refused.join("; ")})` : "";
  const text = [caption?.trim() ? caption : "", note].filter(Boolean).join("\n\n");
  const core = getCore();
  if (!files.length) {
    return text ? core.sendReply({ accountId, target, text, threadId: threadId ?? undefined }) : undefined;
  }
  return core.sendMedia({ accountId, target, threadId: threadId ?? undefined, files, caption: text || undefined });
}
