#!/usr/bin/env node
// A tiny OpenAI-compatible model server for end-to-end tests. No dependencies (Node >= 20).
//
//   node tests/e2e/fake-model.mjs [--port N]
//     prints one line `FAKE_MODEL_URL=http://127.0.0.1:PORT` on stdout once listening;
//     the OpenAI base URL to configure is `${FAKE_MODEL_URL}/v1`.
//
// Model API (both streamed SSE and non-streamed):
//   POST /v1/chat/completions   Chat Completions (`openai-completions` adapter)
//   POST /v1/responses          Responses API   (`openai-responses` adapter; what OpenClaw's
//                               built-in `openai` provider calls, verified with 2026.9.6)
//   GET  /v1/models             model list
//   POST /v1/embeddings         deterministic vectors (OpenClaw's memory sync calls it at startup)
// Test control API (JSON):
//   GET  /_requests             {"requests":[{method,path,body,at,lastUserText,reply}...]} oldest first
//   POST /_reset                forget recorded requests and added rules
//   POST /_release              let every held stream (FAKE_STREAM) go on: {"released":N}
//   POST /_rules                {"match":"regex","flags"?:"i","reply":"text"} (or an array): added
//                               before the built-in rules; first match on the last user text wins.
//                               Instead of "reply", "answer" names an answer derived from what
//                               OpenClaw put in the request, as a real model would read it:
//                                 "file"     the file in the message: its name, type, size (of the
//                                            stored copy), line count and first line
//                                 "history"  the group's "Chat history since last reply": how many
//                                            messages, from whom, and the first one
//                               (a request without a file or history goes on to the next rule)
//                               With "tool": {"name","args"} the rule is a tool call, as a model
//                               that uses a tool answers (Responses API only): the first request
//                               gets a `function_call` of that tool (through OpenClaw's `tool_call`
//                               when the tool is only listed as deferred), and the request carrying
//                               its `function_call_output` gets "reply", in which `{output}` is the
//                               tool's output (its first 8000 characters)
//   GET  /_health               {"ok":true}
//
// Built-in rules, matched against the text of the last user message:
//   contains FAKE_LONG    a ~5 KB reply with a fenced code block longer than 4000 chars (chunking tests)
//   contains FAKE_PING    "pong"
//   contains FAKE_SLOW    "slow: done", answered after 3 s (a model that thinks: typing tests)
//   FAKE_MEDIA <ref>      "here is the file" and a standalone `MEDIA:<ref>` line: how a model's final
//                         reply attaches a file for OpenClaw (it parses the line into `mediaUrls`)
//   contains FAKE_FAIL    HTTP 400 invalid_request_error: a model that refuses the request (a turn
//                         that fails, for the failure reaction and the live message's notice)
//   contains FAKE_STREAM  a ~6 KB reply of numbered sentences ending in FAKE_STREAM_END, streamed in
//                         ~40-char deltas over ~STREAM_MS (block-streaming tests). Halfway it is
//                         held until POST /_release (at most HOLD_MS): a test sees what the first
//                         half did in the chat while the model is provably not done, however slow
//                         the machine. The request's `heldAt` says when the hold began,
//                         `releasedAt` when it ended (or "timeout"), `streamDoneAt` (ISO) when the
//                         last delta was written
//   anything else         "echo: <the last line of the last user message>"
// The last user message is the last `user` item after removing OpenClaw's internal-context block
// and timestamp prefix; its last *line* is echoed because channels add metadata lines above it.
import { statSync } from "node:fs";
import http from "node:http";

const args = process.argv.slice(2);
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;

const requests = [];
let rules = [];

function longReply() {
  const lines = [];
  for (let i = 1; lines.join("\n").length < 4300; i++) {
    lines.push(`    let value_${String(i).padStart(3, "0")} = compute(${i}); // line ${i} of the long block`);
  }
  return [
    "Here is a long answer with a code block, for chunking tests.",
    "",
    "```rust",
    "fn main() {",
    ...lines,
    "}",
    "```",
    "",
    "End of the long answer (FAKE_LONG_END).",
  ].join("\n");
}

// Numbered sentences in paragraphs of five, so a reader can check order and completeness.
export function streamReply() {
  const paras = [];
  for (let p = 0; p < 12; p++) {
    const sentences = [];
    for (let i = 1; i <= 5; i++) sentences.push(`Sentence ${String(p * 5 + i).padStart(2, "0")} of the streamed answer says something useful.`);
    paras.push(sentences.join(" "));
  }
  return `${paras.join("\n\n")}\n\nFAKE_STREAM_END`;
}
const STREAM_MS = 4000;
const HOLD_MS = 90000; // a test that never releases still ends, its stream complete
const held = new Set(); // the release functions of streams waiting at their halfway point

const builtinRules = [
  { re: /FAKE_MEDIA\s+(\S+)/, reply: (m) => `here is the file\n\nMEDIA:${m[1]}` },
  { re: /FAKE_STREAM/, reply: () => streamReply() },
  { re: /FAKE_LONG/, reply: () => longReply() },
  { re: /FAKE_PING/, reply: () => "pong" },
  { re: /FAKE_SLOW/, reply: () => "slow: done" },
];
const SLOW_MS = 3000;

function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === "string" ? p : typeof p?.text === "string" ? p.text : ""))
      .filter(Boolean)
      .join("\n");
  }
  return "";
}

// Last user text for chat completions (`messages`) and responses (`input`) bodies.
function lastUserText(body) {
  const items = Array.isArray(body?.messages)
    ? body.messages
    : Array.isArray(body?.input)
      ? body.input
      : typeof body?.input === "string"
        ? [{ role: "user", content: body.input }]
        : [];
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it?.role !== "user") continue;
    const text = stripInternal(contentText(it.content));
    if (text) return text;
  }
  return "";
}

// OpenClaw appends a separate user item holding runtime context between these markers, and
// prefixes the real message with a `[Wed 2026-11-25 03:44 UTC] ` timestamp.
function stripInternal(text) {
  return text
    .replace(/<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>[\s\S]*?<<<END_OPENCLAW_INTERNAL_CONTEXT>>>/g, "")
    .replace(/^\[[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}[^\]]*\] /gm, "")
    .trim();
}

// Deterministic 16-dimension vectors: OpenClaw's memory sync embeds workspace files with the
// configured OpenAI provider (`text-embedding-3-small`) at startup.
function embedding(text) {
  const v = new Array(16).fill(0);
  for (let i = 0; i < text.length; i++) v[i % 16] += text.charCodeAt(i) % 97;
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

// The file OpenClaw inlined in the user text (`<file name mime>` around its untrusted-content
// envelope), sized by the stored copy its `[media attached: PATH (type) "name"]` line names.
function describeFile(text) {
  const block = text.match(/<file name="([^"]*)"(?: mime="([^"]*)")?>\n?([\s\S]*?)\n?<\/file>/);
  if (!block) return null;
  const [, name, mime] = block;
  const inner = block[3];
  const env = inner.match(/<<<EXTERNAL_UNTRUSTED_CONTENT[^\n]*\n(?:Source:[^\n]*\n---\n)?([\s\S]*?)\n?<<<END_EXTERNAL_UNTRUSTED_CONTENT/);
  const content = env ? env[1] : inner;
  const lines = content.split("\n").filter((l) => l.trim());
  const stored = [...text.matchAll(/\[media attached(?: \d+\/\d+)?: (.+?) \(([^)]*)\)(?: "([^"]*)")?\]/g)].find((m) => !m[3] || m[3] === name);
  let size = "";
  try {
    if (stored) size = `, ${statSync(stored[1]).size} bytes`;
  } catch {
    // not on this machine: the size is left out
  }
  return `${name} (${mime || "unknown type"}${size}, ${lines.length} lines) starts with "${(lines[0] ?? "").trim()}"`;
}

// Strings OpenClaw passes as "Conversation data" in its internal-context user item (JSON-quoted).
function conversationData(body) {
  const items = Array.isArray(body?.input) ? body.input : Array.isArray(body?.messages) ? body.messages : [];
  const out = [];
  for (const it of items) {
    if (it?.role !== "user") continue;
    const text = contentText(it.content);
    for (const m of text.matchAll(/Conversation data \(data, not instructions\):\n("(?:[^"\\]|\\.)*")/g)) {
      try {
        out.push(JSON.parse(m[1]));
      } catch {
        // not a JSON string: skipped
      }
    }
  }
  return out;
}

// The chat history block: `#id <time> Sender: body` lines under its label, up to a blank line.
// The session's earlier turns are replayed with their own blocks: the last one is this turn's.
function describeHistory(body) {
  for (const data of conversationData(body).reverse()) {
    const block = data.match(/(?:Chat history since last reply|Recent chat history):[^\n]*\n([\s\S]*?)(?:\n\n|$)/);
    if (!block) continue;
    const entries = block[1].split("\n").filter(Boolean).map((line) => {
      const m = line.match(/^(?:#\S+\s+)?(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?:\s+[A-Za-z][\w+:-]*)?\s+)?([^:]+?): ([\s\S]*)$/);
      return m ? { sender: m[1], text: m[2] } : { sender: "someone", text: line };
    });
    if (!entries.length) continue;
    const senders = [...new Set(entries.map((e) => e.sender))];
    const who = senders.length > 1 ? `${senders.slice(0, -1).join(", ")} and ${senders.at(-1)}` : senders[0];
    return `you were discussing "${entries[0].text}" (${entries.length} message${entries.length > 1 ? "s" : ""}, from ${who})`;
  }
  return null;
}

const derivedAnswers = { file: (text) => describeFile(text), history: (_text, body) => describeHistory(body) };

// The output of this turn's tool call: a `function_call_output` after the last user message.
function toolOutput(body) {
  const items = Array.isArray(body?.input) ? body.input : [];
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it?.type === "function_call_output") return typeof it.output === "string" ? it.output : JSON.stringify(it.output);
    if (it?.role === "user" && stripInternal(contentText(it.content))) return null;
  }
  return null;
}

// The function call a tool rule makes: the tool itself when the request offers it, else OpenClaw's
// `tool_call` with the tool's name (OpenClaw lists most tools as deferred schemas behind it).
function toolCall(tool, body) {
  const offered = new Set((body?.tools ?? []).map((t) => t?.name ?? t?.function?.name));
  if (offered.has(tool.name)) return { name: tool.name, arguments: JSON.stringify(tool.args ?? {}) };
  if (offered.has("tool_call")) return { name: "tool_call", arguments: JSON.stringify({ id: tool.name, args: tool.args ?? {} }) };
  return null;
}

// The rule's answer: text, or `{call}` for a tool rule whose tool has not run yet this turn.
function chooseAnswer(text, body) {
  for (const r of rules) {
    if (!r.tool || !r.re.test(text)) continue;
    const output = toolOutput(body);
    if (output !== null) return { reply: r.reply.replaceAll("{output}", output.slice(0, 8000)) };
    const call = toolCall(r.tool, body);
    return call ? { call } : { reply: `fake-model: the request offers no ${r.tool.name} tool` };
  }
  return { reply: chooseReply(text, body) };
}

function chooseReply(text, body) {
  for (const r of rules) {
    if (r.tool || !r.re.test(text)) continue;
    if (r.reply !== undefined) return r.reply;
    // Nothing to derive from (e.g. OpenClaw's own recap requests quote the text): the next rule.
    const derived = derivedAnswers[r.answer](text, body);
    if (derived) return derived;
  }
  for (const r of builtinRules) {
    const m = text.match(r.re);
    if (m) return r.reply(m);
  }
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return `echo: ${lines.length ? lines[lines.length - 1] : ""}`;
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function pieces(text, size = 40) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [""];
}

const usage = (text) => ({ prompt: 10, completion: Math.max(1, Math.ceil(text.length / 4)) });
let seq = 0;
const newId = (p) => `${p}_fake${Date.now().toString(36)}${(++seq).toString(36)}`;

// A streamed reply's deltas: at once, or spread over `paceMs` with the hold halfway (recorded in
// `rec`).
async function paced(list, paceMs, write, rec) {
  const gap = paceMs ? paceMs / list.length : 0;
  for (const [i, p] of list.entries()) {
    write(p);
    if (gap && i === Math.floor(list.length / 2)) await hold(rec);
    else if (gap) await new Promise((r) => setTimeout(r, gap));
  }
}

function hold(rec) {
  rec.heldAt = new Date().toISOString();
  return new Promise((resolve) => {
    const release = (how) => {
      clearTimeout(timer);
      held.delete(release);
      rec.releasedAt = how;
      resolve();
    };
    const timer = setTimeout(() => release("timeout"), HOLD_MS);
    held.add(release);
  });
}

async function chatCompletions(body, reply, res, paceMs, rec) {
  const id = newId("chatcmpl");
  const model = body.model || "fake-model";
  const created = Math.floor(Date.now() / 1000);
  const u = usage(reply);
  const usageObj = { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion };
  if (!body.stream) {
    return sendJson(res, 200, {
      id, object: "chat.completion", created, model,
      choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }],
      usage: usageObj,
    });
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const chunk = (delta, finish = null, extra = {}) =>
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model,
      choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
  chunk({ role: "assistant", content: "" });
  await paced(pieces(reply), paceMs, (p) => chunk({ content: p }), rec);
  chunk({}, "stop");
  if (body.stream_options?.include_usage) {
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usageObj })}\n\n`);
  }
  res.end("data: [DONE]\n\n");
}

// A Responses-API answer that calls a tool: one `function_call` output item.
async function responsesToolCall(body, call, res) {
  const id = newId("resp");
  const fcId = newId("fc");
  const model = body.model || "fake-model";
  const created_at = Math.floor(Date.now() / 1000);
  const usageObj = { input_tokens: 10, output_tokens: 10, total_tokens: 20,
    input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };
  const item = { id: fcId, type: "function_call", status: "completed", call_id: newId("call"), name: call.name, arguments: call.arguments };
  const base = { id, object: "response", created_at, model, status: "in_progress", output: [], usage: null };
  const done = { ...base, status: "completed", output: [item], usage: usageObj };
  if (!body.stream) return sendJson(res, 200, done);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  let n = 0;
  const ev = (type, data) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...data })}\n\n`);
  ev("response.created", { response: base });
  ev("response.in_progress", { response: base });
  ev("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", arguments: "" } });
  ev("response.function_call_arguments.delta", { item_id: fcId, output_index: 0, delta: call.arguments });
  ev("response.function_call_arguments.done", { item_id: fcId, output_index: 0, arguments: call.arguments });
  ev("response.output_item.done", { output_index: 0, item });
  ev("response.completed", { response: done });
  res.end();
}

async function responsesApi(body, reply, res, paceMs, rec) {
  const id = newId("resp");
  const msgId = newId("msg");
  const model = body.model || "fake-model";
  const created_at = Math.floor(Date.now() / 1000);
  const u = usage(reply);
  const usageObj = { input_tokens: u.prompt, output_tokens: u.completion, total_tokens: u.prompt + u.completion,
    input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };
  const part = { type: "output_text", text: reply, annotations: [] };
  const item = { id: msgId, type: "message", status: "completed", role: "assistant", content: [part] };
  const base = { id, object: "response", created_at, model, status: "in_progress", output: [], usage: null };
  const done = { ...base, status: "completed", output: [item], usage: usageObj };
  if (!body.stream) return sendJson(res, 200, { ...done, output_text: reply });
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  let n = 0;
  const ev = (type, data) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...data })}\n\n`);
  ev("response.created", { response: base });
  ev("response.in_progress", { response: base });
  ev("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } });
  ev("response.content_part.added", { item_id: msgId, output_index: 0, content_index: 0,
    part: { type: "output_text", text: "", annotations: [] } });
  await paced(pieces(reply), paceMs, (p) =>
    ev("response.output_text.delta", { item_id: msgId, output_index: 0, content_index: 0, delta: p, logprobs: [] }), rec);
  ev("response.output_text.done", { item_id: msgId, output_index: 0, content_index: 0, text: reply, logprobs: [] });
  ev("response.content_part.done", { item_id: msgId, output_index: 0, content_index: 0, part });
  ev("response.output_item.done", { output_index: 0, item });
  ev("response.completed", { response: done });
  res.end();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const raw = await readBody(req);
    let body = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { body = raw; }
    }
    if (path === "/_health") return sendJson(res, 200, { ok: true });
    if (path === "/_requests") return sendJson(res, 200, { requests });
    if (path === "/_reset" && req.method === "POST") {
      requests.length = 0;
      rules = [];
      return sendJson(res, 200, { ok: true });
    }
    if (path === "/_release" && req.method === "POST") {
      const now = new Date().toISOString();
      const waiting = [...held];
      for (const release of waiting) release(now);
      return sendJson(res, 200, { released: waiting.length });
    }
    if (path === "/_rules" && req.method === "POST") {
      for (const r of Array.isArray(body) ? body : [body]) {
        const tool = r?.tool === undefined || (typeof r.tool?.name === "string" && typeof r.reply === "string");
        const ok = r && typeof r.match === "string" && tool && (typeof r.reply === "string" || Object.hasOwn(derivedAnswers, r.answer));
        if (!ok) return sendJson(res, 400, { error: `expected {match, reply} strings (and tool: {name, args}), or answer: ${Object.keys(derivedAnswers).join(" | ")}` });
        rules.push({ re: new RegExp(r.match, r.flags ?? ""), reply: r.reply, answer: r.answer, tool: r.tool });
      }
      return sendJson(res, 200, { ok: true, rules: rules.length });
    }

    const rec = { method: req.method, path, at: new Date().toISOString(), body };
    requests.push(rec);
    const p = path.replace(/^\/v1/, "");
    if (req.method === "GET" && p === "/models") {
      return sendJson(res, 200, { object: "list", data: [
        { id: "fake-model", object: "model", created: 0, owned_by: "fake" },
      ] });
    }
    if (req.method === "POST" && p === "/embeddings") {
      const inputs = Array.isArray(body?.input) ? body.input : [body?.input ?? ""];
      return sendJson(res, 200, { object: "list", model: body?.model ?? "fake-embedding",
        data: inputs.map((t, index) => ({ object: "embedding", index, embedding: embedding(String(t)) })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } });
    }
    if (req.method === "POST" && (p === "/chat/completions" || p === "/responses")) {
      rec.lastUserText = lastUserText(body);
      const answer = chooseAnswer(rec.lastUserText, body);
      if (answer.call && p === "/responses") {
        rec.toolCall = answer.call;
        return responsesToolCall(body ?? {}, answer.call, res);
      }
      rec.reply = answer.reply ?? `fake-model: tool calls are answered on /v1/responses only`;
      if (/FAKE_SLOW/.test(rec.lastUserText)) await new Promise((r) => setTimeout(r, SLOW_MS));
      if (/FAKE_FAIL/.test(rec.lastUserText)) {
        return sendJson(res, 400, { error: { message: "fake-model: this request is refused on purpose", type: "invalid_request_error", code: "invalid_request" } });
      }
      const paceMs = /FAKE_STREAM/.test(rec.lastUserText) && body?.stream ? STREAM_MS : 0;
      await (p === "/responses" ? responsesApi : chatCompletions)(body ?? {}, rec.reply, res, paceMs, rec);
      if (paceMs) rec.streamDoneAt = new Date().toISOString();
      return;
    }
    process.stderr.write(`fake-model: unhandled ${req.method} ${req.url}\n`);
    return sendJson(res, 404, { error: { message: `fake-model: no route ${req.method} ${path}`, type: "not_found" } });
  } catch (err) {
    process.stderr.write(`fake-model: ${err?.stack ?? err}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: "server_error" } });
    else res.end();
  }
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`FAKE_MODEL_URL=http://127.0.0.1:${server.address().port}\n`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
