'use strict';
// @rocket.chat/ddp-client (the official SDK): token login, one `room-messages` stream per room.
const { PEERS, args, forBot, Tally, run } = require('./harness');

globalThis.WebSocket ??= PEERS('ws');
const { DDPSDK } = PEERS('@rocket.chat/ddp-client');
const { url, count, latency, every } = args();
const tally = new Tally(count, latency, every);
// Busy rooms: the bot's own check, in JS, of every message it receives.
const onMessage = (msg) => {
  tally.crossed += 1;
  if (every === 1 || forBot(msg)) tally.record(msg.msg);
};

async function main() {
  const sdk = DDPSDK.create(url);
  await sdk.connection.connect();
  await sdk.account.loginWithToken(process.env.BENCH_BOT_TOKEN);
  for (const rid of process.env.BENCH_ROOMS.split(',')) {
    const sub = sdk.stream('room-messages', rid, onMessage);
    await sub.ready();
  }
  await run(tally);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
