// The account lifetime (gateway.startAccount) and the inbound path: core events -> OpenClaw's
// channel turn (routing, session, agent, reply dispatch) -> replies sent by the core.
// Gating (policies, allowlists, mentions, chat mode), mention stripping, target resolution and
// message splitting are the core's; this file only maps between the two.
import { resolveHumanDelayConfig } from "openclaw/plugin-sdk/agent-runtime";
import { createChannelMessageReplyPipeline } from "openclaw/plugin-sdk/channel-outbound";
import { createChannelPairingController } from "openclaw/plugin-sdk/channel-pairing";
import { finalizeInboundContext } from "openclaw/plugin-sdk/reply-runtime";
import { resolveThreadSessionKeys } from "openclaw/plugin-sdk/routing";
import { CHANNEL_ID, normalizeAllowEntry, resolveAccount } from "./config.js";
import { getCore, setCoreLog, startCoreAccount, stopCoreAccount } from "./core.js";
import { inboundDispatcher } from "./debounce.js";
import { turnFeedback } from "./feedback.js";
import { fetchContext } from "./history.js";
import { commandAccess, messageText } from "./host-rules.js";
import { resolveInboundMedia } from "./media.js";
import { replyMediaRoots, sendMediaReply } from "./outbound-media.js";
import { liveProgress, resolveStreaming } from "./live.js";
import { replyThread, replyThreadingPolicy, resolveReplyToMode, turnThread } from "./threading.js";

// OpenClaw's pairing store has no change notification: it is read this often.
const STORE_POLL_MS = 2000;

const chatKind = (roomType) => (roomType === "d" || roomType === "l" ? "direct" : roomType === "p" ? "group" : "channel");

/** Send an agent's reply through the core (prefix, tables, chunking, typing). */
export async function sendReplyText(_rt, _cfg, accountId, target, text, threadId, replyTo) {
  return getCore().sendReply({ accountId, target, text, threadId: threadId ?? undefined, replyTo });
}

/** Media through the core (outbound-media.js): `access` is the host's media access for this send. */
export async function sendReplyMedia(_rt, cfg, accountId, target, mediaUrl, caption, threadId, { access, log } = {}) {
  const refs = Array.isArray(mediaUrl) ? mediaUrl : [mediaUrl];
  const mediaMaxMb = resolveAccount(cfg, accountId).config.mediaMaxMb;
  return sendMediaReply({ accountId, target, threadId, refs, caption, access, mediaMaxMb, log });
}

// Whether any allowlist could authorise a command: config lists or approved pairings.
function listsConfigured(state) {
  const c = state.account?.config ?? {};
  const nonEmpty = (l) => Array.isArray(l) && l.some((e) => String(e).trim());
  return nonEmpty(c.allowFrom) || nonEmpty(c.groupAllowFrom) || state.approved.size > 0;
}

async function dispatchMessage(state, m) {
  const { rt, cfg, accountId, log } = state;
  const trigger = m.trigger ?? { body: m.text, wasMentioned: m.mentions?.botMentioned, commandAuthorized: false };
  const kind = chatKind(m.roomType);
  const senderId = m.sender.id;
  const senderName = m.sender.name || m.sender.username;
  const route = rt.channel.routing.resolveAgentRoute({
    cfg,
    channel: CHANNEL_ID,
    accountId,
    peer: { kind, id: kind === "direct" ? senderId : m.roomId },
  });
  // The turn's thread: the message's own, or a new one under it (replyToMode).
  const replyToMode = resolveReplyToMode(cfg, accountId, kind);
  const threadId = turnThread(m, replyToMode);
  const keys = resolveThreadSessionKeys({
    baseSessionKey: route.sessionKey,
    threadId,
    parentSessionKey: threadId && kind !== "direct" ? route.sessionKey : undefined,
    normalizeThreadId: (t) => t,
  });
  const to = kind === "direct" ? `user:${senderId}` : `channel:${m.roomId}`;
  const from = kind === "direct" ? `${CHANNEL_ID}:${senderId}` : `${CHANNEL_ID}:${kind}:${m.roomId}`;
  // Replies go straight to the room: no DM lookup for `user:` on the hot path.
  const replyTarget = `room:${m.roomId}`;
  const roomLabel = m.roomName ? `#${m.roomName}` : `#${m.roomId}`;
  const text = messageText(cfg, trigger, m.text);
  const cmd = commandAccess({ cfg, kind, text, trigger, listsConfigured: listsConfigured(state) });
  if (cmd.drop) {
    log?.debug?.(`rocketchat: drop ${m.messageId} in ${m.roomId}: ${cmd.drop}`);
    return;
  }
  // A reaction on the message while the bot works; the room marked read when it is done.
  const feedback = turnFeedback({ cfg, core: getCore(), accountId, agentId: route.agentId, m, kind, wasMentioned: trigger.wasMentioned, log });
  feedback.accepted();
  // Attached files: saved in OpenClaw's media store; a placeholder or a note in the agent's text.
  const { text: body, payload: mediaPayload } = await resolveInboundMedia(state, m, text);
  // What was said since the bot last spoke, and a thread's first message (DMs: threads only).
  const context = await fetchContext(getCore(), state, m, { kind, roomLabel });
  const ctxPayload = finalizeInboundContext({
    ...mediaPayload,
    InboundHistory: context.history,
    ThreadStarterBody: context.starter ? `${context.starter.sender}: ${context.starter.body}` : undefined,
    ThreadLabel: context.starter?.label,
    Body: `[rocketchat message id: ${m.messageId} room: ${m.roomId}]\n${body}`,
    BodyForAgent: body,
    RawBody: text,
    CommandBody: text,
    BodyForCommands: text,
    From: from,
    To: to,
    SessionKey: keys.sessionKey,
    ParentSessionKey: keys.parentSessionKey,
    DmScope: route.dmScope,
    AccountId: route.accountId,
    ChatType: kind,
    ConversationLabel: kind === "direct" ? senderName : roomLabel,
    GroupSubject: kind !== "direct" ? m.roomName || m.roomId : undefined,
    GroupChannel: kind !== "direct" ? roomLabel : undefined,
    SenderName: senderName,
    SenderId: senderId,
    SenderUsername: m.sender.username,
    Provider: CHANNEL_ID,
    Surface: CHANNEL_ID,
    MessageSid: m.messageId,
    ReplyToId: threadId,
    MessageThreadId: threadId,
    ReplyToMode: replyToMode,
    ReplyThreading: replyThreadingPolicy(replyToMode, m),
    Timestamp: typeof m.ts === "number" ? m.ts : undefined,
    WasMentioned: kind !== "direct" ? Boolean(trigger.wasMentioned) : undefined,
    CommandAuthorized: cmd.commandAuthorized,
    CommandSource: cmd.commandAuthorized && cmd.command ? "text" : undefined,
    NativeChannelId: m.roomId,
    InboundAccessAuthorized: true,
    OriginatingChannel: CHANNEL_ID,
    OriginatingTo: to,
  });

  // "mybot is typing…" while the agent works: OpenClaw's typing lifecycle drives the core's
  // indicator (which refreshes itself and shares the room with the core's own sends).
  const typingArgs = { accountId, target: replyTarget, threadId: threadId ?? undefined };
  const { onModelSelected, typingCallbacks, resolveResponsePrefix: _p, ...dispatcherPipeline } = createChannelMessageReplyPipeline({
    cfg,
    agentId: route.agentId,
    channel: CHANNEL_ID,
    accountId,
    typing: {
      start: () => getCore().typing({ ...typingArgs, active: true }),
      stop: () => getCore().typing({ ...typingArgs, active: false }),
      onStartError: (err) => log?.debug?.(`rocketchat: typing failed: ${String(err?.message ?? err)}`),
      onStopError: (err) => log?.debug?.(`rocketchat: typing stop failed: ${String(err?.message ?? err)}`),
    },
  });
  const account = state.account;
  const streaming = resolveStreaming(cfg, accountId);
  // "partial" shows the answer growing in the live message, "block" posts blocks: both need them.
  const disableBlockStreaming = streaming.mode === "partial" || streaming.mode === "block" ? false : typeof account.config.blockStreaming === "boolean" ? !account.config.blockStreaming : undefined;
  // Block streaming: one core stream per turn; its coalescer decides how blocks become
  // messages (blockStreamingCoalesce). Final-only replies go out whole through sendReply.
  let streamId;
  let streamed = false;
  const joiner = blockJoiner(cfg);
  const core = getCore();
  // A live message (streaming.mode): its placeholder is the turn's stream from the start.
  let progress;
  let textShown = false;
  let turnFailed = false;
  if (streaming.live) {
    try {
      streamId = (await core.streamStart({ accountId, target: replyTarget, threadId, placeholder: streaming.placeholder, replyTo: m.messageId })).streamId;
      const live = streamId;
      progress = liveProgress({ ...streaming, show: (text) => core.streamStatus({ streamId: live, text }), log });
    } catch (e) {
      log?.warn?.(`rocketchat: live message not started, answering without it: ${String(e?.message ?? e)}`);
    }
  }
  const failed = () => {
    turnFailed = true;
    feedback.failed();
    progress?.failed();
  };
  const finishStream = async () => {
    const id = streamId;
    streamId = undefined;
    streamed = false;
    if (id === undefined) return;
    // A live message that failed before any text keeps saying so; finishing would delete it.
    if (progress && turnFailed && !textShown) await core.streamAbort({ streamId: id });
    else if (!(await core.streamFinish({ streamId: id }))?.length && textShown) feedback.claimedElsewhere();
  };
  const delivery = {
    observeMessageSent: true,
    deliver: async (payload, info) => {
      const text = payload.text ?? "";
      const media = payload.mediaUrls?.length ? payload.mediaUrls : payload.mediaUrl ? [payload.mediaUrl] : [];
      // This message's thread: the turn's, or as the dispatcher applied replyToMode to it.
      const thread = replyThread(m, payload);
      // The agent's failure notice (a provider error, an overload) is still posted.
      if (payload.isError) feedback.failed();
      if (text.trim() && !media.length && streamId !== undefined) {
        textShown = true;
        progress?.textStarted();
      }
      if (text.trim() && !media.length) {
        if (info.kind === "block" || (info.kind === "final" && streamId !== undefined)) {
          // A stream stays where its first block went.
          streamId ??= (await core.streamStart({ accountId, target: replyTarget, threadId: thread, replyTo: m.messageId })).streamId;
          // OpenClaw trims each block: put back the separator its own coalescer would join them with.
          await core.streamPush({ streamId, text: streamed ? joiner + text : text });
          streamed = true;
          feedback.answered();
          if (info.kind === "final") await finishStream();
          return;
        }
        // replyTo: with two gateways on this account, the first to post answers (the other's
        // copy is refused by the server and nothing of it is posted).
        const sent = await sendReplyText(rt, cfg, accountId, replyTarget, text, thread, m.messageId);
        if (sent?.length) feedback.answered();
        else feedback.claimedElsewhere();
      }
      if (media.length) {
        // The agent's files: only from the roots the host allows this agent (its workspace, the
        // media store, OpenClaw's temp folder); the text rides on the first upload.
        const access = { mediaLocalRoots: replyMediaRoots(cfg, route.agentId) };
        await sendReplyMedia(rt, cfg, accountId, replyTarget, media, text.trim() ? text : undefined, thread, { access, log });
        feedback.answered();
      }
      if (info.kind === "final") await finishStream();
    },
    onError: (err, info) => {
      failed();
      log?.error?.(`rocketchat ${info?.kind ?? "reply"} delivery failed: ${String(err?.message ?? err)}`);
    },
  };

  try {
    await rt.channel.inbound.run({
      channel: CHANNEL_ID,
      accountId: route.accountId,
      raw: m,
      adapter: {
        ingest: () => ({ id: m.messageId, timestamp: m.ts, rawText: m.text, textForAgent: body, textForCommands: text, raw: m }),
        resolveTurn: () => ({
          cfg,
          channel: CHANNEL_ID,
          accountId: route.accountId,
          route: { agentId: route.agentId, dmScope: route.dmScope, sessionKey: keys.sessionKey },
          ctxPayload,
          record: {
            updateLastRoute: kind === "direct" ? { sessionKey: keys.sessionKey, channel: CHANNEL_ID, to, accountId: route.accountId } : undefined,
            onRecordError: (err) => log?.warn?.(`rocketchat: session record failed: ${String(err)}`),
          },
          dispatcherOptions: { ...dispatcherPipeline, humanDelay: resolveHumanDelayConfig(cfg, route.agentId), typingCallbacks },
          delivery,
          replyOptions: {
            disableBlockStreaming,
            onModelSelected,
            onAgentRunStart: () => {
              feedback.working();
            },
            onToolStart: (p) => {
              feedback.tool(p?.name);
              progress?.tool(p?.name);
            },
            onAgentRunTerminalOutcome: (outcome) => {
              if (outcome === "failed") failed();
            },
          },
        }),
      },
    });
  } catch (e) {
    failed();
    throw e;
  } finally {
    progress?.stop();
    await finishStream().catch((e) => {
      feedback.failed();
      log?.warn?.(`rocketchat: streamed reply failed: ${String(e?.message ?? e)}`);
    });
    // Whatever ended the turn (an error included), the indicator does not outlive it.
    await getCore().typing({ ...typingArgs, active: false }).catch(() => {});
    feedback.finished();
  }
}

// Whether the mirrored store admits this sender (stored ids; a username entry too).
function storeAdmits(state, ev) {
  const names = [ev.senderId, ev.senderUsername, ev.senderUsername && `@${ev.senderUsername}`].filter(Boolean).map((v) => v.toLowerCase());
  return [...state.approved].some((e) => names.includes(e.toLowerCase()));
}

// The separator OpenClaw's block coalescer puts between the (trimmed) blocks of one reply, by
// `agents.defaults.blockStreamingChunk.breakPreference`: a space after sentences, a newline after
// lines, a blank line after paragraphs (the default).
export function blockJoiner(cfg) {
  const pref = cfg?.agents?.defaults?.blockStreamingChunk?.breakPreference;
  return pref === "sentence" ? " " : pref === "newline" ? "\n" : "\n\n";
}

async function handlePairingRequest(state, ev) {
  const { rt, accountId, log } = state;
  // The store may already admit the sender (approved since the last poll, or before this
  // process started): mirror it instead of issuing a new code; the core then answers the
  // messages it held, this one included.
  await syncPairingStore(state);
  if (storeAdmits(state, ev)) {
    log?.info?.(`rocketchat: ${ev.senderId} is already approved in the pairing store`);
    return;
  }
  const { code, created } = await state.pairing.upsertPairingRequest({
    id: ev.senderId,
    meta: { name: ev.senderName || ev.senderUsername, username: ev.senderUsername },
  });
  log?.info?.(`rocketchat: pairing request from ${ev.senderId} (created=${created})`);
  if (!created) return;
  const text = rt.channel.pairing.buildPairingReply({
    channel: CHANNEL_ID,
    idLine: `Your Rocket.Chat user id: ${ev.senderId}`,
    code,
  });
  await getCore().sendText({ accountId, target: `room:${ev.roomId}`, text });
}

// Effective allowlist = config ∪ the host's pairing store: keep the core's approvals equal to the
// store. One read at a time; a call while one runs waits for a fresh read after it (never a
// stale answer), and callers arriving meanwhile share that one.
function syncPairingStore(state) {
  if (state.syncNext) return state.syncNext;
  const run = () => {
    state.syncNext = undefined;
    state.syncing = readAndApplyStore(state).finally(() => {
      state.syncing = undefined;
    });
    return state.syncing;
  };
  if (!state.syncing) return run();
  state.syncNext = state.syncing.catch(() => {}).then(run);
  return state.syncNext;
}

async function readAndApplyStore(state) {
  const entries = (await state.pairing.readAllowFromStore()) ?? [];
  const now = new Set(entries.map(normalizeAllowEntry).filter(Boolean));
  const approve = [...now].filter((e) => !state.approved.has(e));
  const revoke = [...state.approved].filter((e) => !now.has(e));
  if (!approve.length && !revoke.length) return;
  await getCore().updateAllowlist({ accountId: state.accountId, approve, revoke });
  state.approved = now;
  state.log?.info?.(`rocketchat: pairing store synced (+${approve.length} -${revoke.length})`);
}

export function statusPatch(st) {
  if (!st) return { connected: false, running: false };
  const connected = st.state === "ready" || st.state === "connected";
  return {
    running: st.state !== "stopped",
    connected,
    lifecycle: connected ? "ready" : st.state === "authFailed" ? "blocked" : st.state === "stopped" ? "stopped" : "starting",
    lastError: st.lastError ?? null,
    lastInboundAt: st.lastInboundAt ?? null,
    lastOutboundAt: st.lastOutboundAt ?? null,
    baseUrl: st.baseUrl,
    botUserId: st.userId,
    botUsername: st.username,
    // "Why doesn't the bot answer?": `openclaw channels status --json` shows these.
    delivered: st.delivered,
    sent: st.sent,
    reconnects: st.reconnects,
    dropped: st.dropped,
    // Replies another instance of the bot (a second gateway on this account) posted first.
    claimedElsewhere: st.claimedElsewhere ?? 0,
  };
}

// One lifetime per account id: a restart (abort, then a new startAccount) waits for the previous
// lifetime's teardown, so the old one never stops the account the new one started.
const lifetimes = new Map();

/** gateway.startAccount: runs until ctx.abortSignal fires. */
export async function startAccount(ctx, getRuntime) {
  const { accountId } = ctx;
  const prev = lifetimes.get(accountId);
  let release;
  const me = { done: new Promise((r) => (release = r)) };
  lifetimes.set(accountId, me);
  try {
    if (prev) await prev.done;
    return await runAccount(ctx, getRuntime, me);
  } finally {
    if (lifetimes.get(accountId) === me) lifetimes.delete(accountId);
    release();
  }
}

async function runAccount(ctx, getRuntime, me) {
  const rt = getRuntime();
  const { accountId, cfg, abortSignal } = ctx;
  if (abortSignal.aborted) return;
  const log = ctx.log ?? { info: (m) => ctx.runtime?.log?.(m), warn: (m) => ctx.runtime?.log?.(m), error: (m) => ctx.runtime?.error?.(m) };
  setCoreLog(log);
  const state = {
    rt, cfg, accountId, log, account: ctx.account, approved: new Set(),
    pairing: createChannelPairingController({ core: rt, channel: CHANNEL_ID, accountId }),
  };
  const deliver = inboundDispatcher({ cfg, log, dispatch: (m) => dispatchMessage(state, m) });
  const onEvent = (ev) => {
    if (ev.type === "message" && ev.message) {
      deliver(ev.message);
    } else if (ev.type === "dropped" && ev.reason === "notAllowed") {
      // Possibly a DM held for a pending pairing whose approval the poll has not seen yet:
      // look now, so the approval takes effect for this message, not up to a poll later.
      syncPairingStore(state).catch((e) => log.warn?.(`rocketchat: pairing store sync failed: ${String(e?.message ?? e)}`));
    } else if (ev.type === "pairingRequest") {
      handlePairingRequest(state, ev).catch((e) => log.error?.(`rocketchat: pairing request failed: ${String(e?.message ?? e)}`));
    } else if (ev.type === "authFailed" || ev.type === "error" || ev.type === "sendFailed") {
      log.warn?.(`rocketchat: ${ev.type}: ${ev.message ?? ev.error ?? ev.reason ?? JSON.stringify(ev)}`);
    } else if (ev.type === "messageEdited" || ev.type === "messageDeleted") {
      // OpenClaw has no inbound edit or delete to hand these to; an edit that newly passes
      // the access rules arrives as a new `message` (the core decides).
      log.debug?.(`rocketchat: ${ev.type} ${ev.message?.messageId ?? ev.messageId} in ${ev.message?.roomId ?? ev.roomId}`);
    } else if (ev.type === "catchUpGap") {
      // Never silent: messages of this span may be missing from the agent's view.
      const span = `${new Date(ev.from).toISOString()} to ${new Date(ev.to).toISOString()}`;
      log.warn?.(`rocketchat: could not recover ${ev.roomName ? `#${ev.roomName}` : ev.roomId} from ${span}: ${ev.reason}`);
    }
  };
  const setStatus = (patch) => ctx.setStatus?.({ ...(ctx.getStatus?.() ?? {}), accountId, ...patch });
  setStatus({ running: true, connected: false, lifecycle: "starting" });
  const core = getCore();
  // The host's status follows the core's events: after each batch that touched this account,
  // one status read (never more than one in flight).
  let refreshing = false;
  let again = false;
  const refreshStatus = async () => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      do {
        again = false;
        setStatus(statusPatch(await core.status({ accountId })));
      } while (again);
    } catch {
      // closed meanwhile
    } finally {
      refreshing = false;
    }
  };
  const onEventAndStatus = (ev) => {
    onEvent(ev);
    if (!abortSignal.aborted) queueMicrotask(refreshStatus);
  };
  let started;
  try {
    started = await startCoreAccount(cfg, accountId, onEventAndStatus);
  } catch (e) {
    setStatus({ running: false, connected: false, lastError: String(e?.message ?? e) });
    throw e;
  }
  for (const w of started?.warnings ?? []) log.warn?.(`rocketchat: config: ${w}`);
  const poll = async () => {
    try {
      await syncPairingStore(state);
    } catch (e) {
      log.warn?.(`rocketchat: pairing store sync failed: ${String(e?.message ?? e)}`);
    }
  };
  await poll();
  await refreshStatus();
  const timers = [setInterval(poll, STORE_POLL_MS)];
  try {
    if (!abortSignal.aborted) await new Promise((resolve) => abortSignal.addEventListener("abort", resolve, { once: true }));
  } finally {
    timers.forEach(clearInterval);
    // A restart queued behind us re-applies the config itself: stop only when nobody follows.
    if (lifetimes.get(accountId) === me) await stopCoreAccount(accountId).catch(() => {});
    setStatus({ running: false, connected: false, lifecycle: "stopped" });
  }
}

/** gateway.stopAccount: the host aborted the account's signal; wait for its teardown. */
export async function stopAccount(ctx) {
  await lifetimes.get(ctx.accountId)?.done;
}
