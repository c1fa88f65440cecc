'use strict';
// Many accounts on one core: BENCH_ACCOUNTS is a JSON array of {userId, pat}. Ready once every
// account is authenticated; then counts the flood's messages over all accounts (each message
// reaches exactly one of them, bench/scale.mjs builds the seed so).
const path = require('node:path');
const { ROOT, OPEN_TO_ALL, args, Tally, run } = require('./harness');

const { RocketChatCore, parseEvents } = require(path.join(ROOT, 'bindings', 'node'));
const { url, count, latency } = args();
const tally = new Tally(count, latency);
const bots = JSON.parse(process.env.BENCH_ACCOUNTS);

async function main() {
  const core = new RocketChatCore();
  const authenticated = new Set();
  let allIn;
  const ready = new Promise((resolve) => { allIn = resolve; });
  core.onEvent((batch) => {
    for (const e of parseEvents(batch)) {
      if (e.type === 'message') tally.record(e.message.text);
      else if (e.type === 'authenticated') {
        authenticated.add(e.accountId);
        if (authenticated.size === bots.length) allIn();
      }
    }
  });
  const accounts = Object.fromEntries(
    bots.map((b, i) => [`bot${i}`, { baseUrl: url, authToken: b.pat, userId: b.userId }]));
  await core.applyConfig({ config: {
    ...OPEN_TO_ALL,
    accounts,
  } });
  await ready;
  await run(tally);
  await core.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
