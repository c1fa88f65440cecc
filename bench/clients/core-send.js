'use strict';
// Outbound: one long reply that the core splits into COUNT chunks (a line each) and posts
// through its pacing queue. Speaks the line protocol; `received` counts chunks posted.
const path = require('node:path');
const { ROOT, args, run } = require('./harness');

const { RocketChatCore } = require(path.join(ROOT, 'bindings', 'node'));
const { url, count } = args();
const LINE = 150;

/** Line i: `out=<i> ` padded to LINE characters, so each chunk is exactly one line. */
const line = (i) => `out=${i} `.padEnd(LINE, 'x');

async function main() {
  const core = new RocketChatCore();
  let authenticated;
  const ready = new Promise((resolve) => { authenticated = resolve; });
  core.onEvent((batch) => { if (batch.some((e) => e.includes('"type":"authenticated"'))) authenticated(); });
  await core.applyConfig({ config: {
    baseUrl: url,
    authToken: process.env.BENCH_BOT_PAT,
    userId: process.env.BENCH_BOT_ID,
    textChunkLimit: LINE + 10,
    chunkMode: 'newline',
  } });
  await ready;
  const text = Array.from({ length: count }, (_, i) => line(i)).join('\n');
  const tally = { received: 0 };
  tally.finished = (async () => {
    const sent = await core.sendText({ accountId: 'default', target: 'room:GENERAL', text });
    tally.received = sent.length;
  })();
  await run(Object.assign(tally, { duplicates: 0, outOfOrder: 0, latenciesUs: [] }));
  await core.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
