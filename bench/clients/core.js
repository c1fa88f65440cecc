'use strict';
// The core through its Node binding, as OpenClaw uses it: `onEvent` batches, `parseEvents`,
// one account configured so that every flood message passes the access rules.
const path = require('node:path');
const { ROOT, OPEN_TO_ALL, args, Tally, run } = require('./harness');

const { RocketChatCore, parseEvents } = require(path.join(ROOT, 'bindings', 'node'));
const { url, count, latency } = args();
const tally = new Tally(count, latency);
const dropped = {};
// After a dropped socket (the reconnect run): when the first live message arrived, and how many
// came through the catch-up instead.
const sources = { catchUp: 0, firstLiveMs: undefined };
let goAt;

async function main() {
  const core = new RocketChatCore();
  let authenticated;
  const ready = new Promise((resolve) => { authenticated = resolve; });
  core.onEvent((batch) => {
    for (const e of parseEvents(batch)) {
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
    ...OPEN_TO_ALL,
  } });
  await ready;
  await run(tally, () => ({ dropped, ...sources }), () => { goAt = performance.now(); });
  await core.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
