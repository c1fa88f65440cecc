'use strict';
// @rocket.chat/sdk (the legacy bot driver): password login, `__my_messages__`, reactToMessages.
const { PEERS, args, Tally, run } = require('./harness');

const { driver } = PEERS('@rocket.chat/sdk');
const { url, count, latency } = args();
const tally = new Tally(count, latency);

async function main() {
  driver.useLog({ debug() {}, info() {}, warn() {}, warning() {}, error() {} });
  await driver.connect({ host: url.replace(/^http:\/\//, ''), useSsl: false, timeout: 10000 });
  await driver.login({ username: process.env.BENCH_BOT_USER, password: process.env.BENCH_BOT_PASSWORD });
  await driver.subscribeToMessages();
  driver.reactToMessages((err, message) => { if (!err) tally.record(message.msg); });
  await run(tally);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
