'use strict';
// Many accounts on one core: BENCH_ACCOUNTS is a JSON array of {userId, pat}. Ready once every
// account is authenticated; then counts the flood's messages over all accounts (each message
// reaches exactly one of them, bench/scale.mjs builds the seed so).
// Mode `storm` (bench/storm.mjs): `go` comes just before the server restarts; COUNT is the
// messages posted while it is down. The result adds, per account, the ms from `go` until it
// was authenticated again and until its last outage message arrived, and its reconnect tries.
const path = require('node:path');
const { ROOT, OPEN_TO_ALL, args, Tally, run } = require('./harness');

const { RocketChatCore, parseEvents } = require(path.join(ROOT, 'bindings', 'node'));
const { url, count, latency } = args();
const storm = process.argv[4] === 'storm';
const tally = new Tally(count, latency);
const bots = JSON.parse(process.env.BENCH_ACCOUNTS);

async function main() {
  const core = new RocketChatCore();
  const logins = new Map(); // account → authenticated events
  let wentAt; // performance.now() at `go`
  const backMs = new Map();
  const lastMessageMs = new Map();
  const tries = new Map(); // account → connecting events after `go`
  let allIn;
  let allBack;
  const ready = new Promise((resolve) => { allIn = resolve; });
  const back = new Promise((resolve) => { allBack = resolve; });
  core.onEvent((batch) => {
    for (const e of parseEvents(batch)) {
      if (e.type === 'message') {
        tally.record(e.message.text);
        if (wentAt !== undefined) lastMessageMs.set(e.accountId, performance.now() - wentAt);
      } else if (e.type === 'authenticated') {
        const n = (logins.get(e.accountId) ?? 0) + 1;
        logins.set(e.accountId, n);
        if (n === 1 && logins.size === bots.length) allIn();
        if (wentAt !== undefined && !backMs.has(e.accountId)) {
          backMs.set(e.accountId, performance.now() - wentAt);
          if (backMs.size === bots.length) allBack();
        }
      } else if (e.type === 'connecting' && wentAt !== undefined) {
        tries.set(e.accountId, (tries.get(e.accountId) ?? 0) + 1);
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
  const sorted = (m) => [...m.values()].sort((a, b) => a - b);
  const extra = () => (storm
    ? { backMs: sorted(backMs), caughtUpMs: sorted(lastMessageMs), tries: sorted(tries), accounts: bots.length }
    : {});
  const onGo = () => {
    if (!storm) return;
    wentAt = performance.now();
    // Done once every account is back and every outage message arrived.
    const messages = tally.finished;
    tally.finished = Promise.all([messages, back]);
  };
  await run(tally, extra, onGo);
  await core.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
