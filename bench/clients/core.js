'use strict';
// The core through its Node binding, as OpenClaw uses it: `onEvent` batches, `parseEvents`,
// one account configured so that every flood message passes the access rules, or (busy rooms,
// BENCH_EVERY set) with the default rules and the sender allowlisted, so only the messages
// that mention the bot are delivered. Counts every event that crosses into JS.
const path = require('node:path');
const { ROOT, OPEN_TO_ALL, DEFAULT_RULES, args, Tally, run } = require('./harness');

const { RocketChatCore, parseEvents } = require(path.join(ROOT, 'bindings', 'node'));
const { url, count, latency, every } = args();
const tally = new Tally(count, latency, every);
const dropped = {};
// Events handed to JS by the binding, by type, and the batches they came in.
const events = { batches: 0, total: 0, byType: {} };
// After a dropped socket (the reconnect run): when the first live message arrived, and how many
// came through the catch-up instead.
const sources = { catchUp: 0, firstLiveMs: undefined };
let goAt;

async function main() {
  // As the plugin creates it: drops outside DMs stay in the core (counted in its status).
  const core = new RocketChatCore({ droppedEvents: 'direct', ...(process.env.BENCH_WORKERS ? { workerThreads: Number(process.env.BENCH_WORKERS) } : {}) });
  let authenticated;
  const ready = new Promise((resolve) => { authenticated = resolve; });
  core.onEvent((batch) => {
    events.batches += 1;
    events.total += batch.length;
    for (const e of parseEvents(batch)) {
      events.byType[e.type] = (events.byType[e.type] ?? 0) + 1;
      if (e.type === 'message') {
        tally.record(e.message.text);
        if (e.message.source === 'catchUp') sources.catchUp += 1;
        else if (goAt !== undefined) sources.firstLiveMs ??= performance.now() - goAt;
      }
      else if (e.type === 'dropped') dropped[e.reason] = (dropped[e.reason] ?? 0) + 1;
      else if (e.type === 'authenticated') authenticated();
    }
  });
  await core.applyConfig({ config: {
    baseUrl: url,
    authToken: process.env.BENCH_BOT_PAT,
    userId: process.env.BENCH_BOT_ID,
    ...(every > 1 ? DEFAULT_RULES : OPEN_TO_ALL),
  } });
  await ready;
  let atGo;
  await run(tally, () => ({ dropped, ...sources, events: since(atGo) }), () => {
    goAt = performance.now();
    atGo = structuredClone(events);
  });
  await core.close();
}

/** The events counted since `go`. */
function since(start) {
  const byType = {};
  for (const [k, n] of Object.entries(events.byType)) byType[k] = n - (start.byType[k] ?? 0);
  return { batches: events.batches - start.batches, total: events.total - start.total, byType };
}

main().catch((e) => { console.error(e); process.exit(1); });
