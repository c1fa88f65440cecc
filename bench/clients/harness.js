'use strict';
// The client side of the harness's line protocol (bench/README.md), shared by the Node clients:
// print `ready`, wait for `go`, count the flood's `seq=<n> t=<µs>` texts, print one JSON result,
// exit on `quit`.
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = require('node:module').createRequire(
  path.join(ROOT, 'tests', 'conformance', 'node', 'package.json'));

/**
 * argv: URL COUNT [latency]; env BENCH_EVERY=K (busy rooms): only the messages with
 * (seq + 1) % K == 0 are for the bot, COUNT / K of them.
 */
function args() {
  const [url, count, mode] = process.argv.slice(2);
  const every = Number(process.env.BENCH_EVERY || 1);
  return { url, count: Number(count), latency: mode === 'latency', every };
}

const PROGRESS_EVERY = 100;

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

class Tally {
  /** `count` messages in the flood, of which those with (seq + 1) % every == 0 are expected. */
  constructor(count, latency, every = 1) {
    this.count = Math.floor(count / every);
    this.every = every;
    this.seen = new Uint8Array(this.count);
    this.latency = latency;
    this.received = 0;
    this.duplicates = 0;
    // Messages not for the bot that reached the callback anyway.
    this.unexpected = 0;
    // Callbacks into JS, counted by the client (every message for the peers).
    this.crossed = 0;
    this.outOfOrder = 0;
    this.last = -1;
    this.latenciesUs = [];
    this.done = null;
    this.finished = new Promise((resolve) => { this.done = resolve; });
  }

  /** One delivered message text. */
  record(text) {
    if (typeof text !== 'string' || !text.startsWith('seq=')) return;
    const space = text.indexOf(' ');
    const seq = Number(text.slice(4, space));
    if ((seq + 1) % this.every !== 0) { this.unexpected += 1; return; }
    const slot = (seq + 1) / this.every - 1;
    if (!(slot >= 0 && slot < this.count) || this.seen[slot]) { this.duplicates += 1; return; }
    this.seen[slot] = 1;
    this.received += 1;
    if (seq < this.last) this.outOfOrder += 1;
    this.last = seq;
    if (this.latency) {
      const end = text.indexOf(' ', space + 1);
      const sent = Number(text.slice(space + 3, end < 0 ? undefined : end));
      this.latenciesUs.push(nowUs() - sent);
    }
    // Progress for a run that will not finish in its time budget. stdout is a pipe, written
    // synchronously on Linux, so the line gets out even while callbacks keep the loop busy.
    if (this.received % PROGRESS_EVERY === 0) {
      process.stdout.write(`progress ${this.received} ${(performance.now() - this.start) / 1000}\n`);
    }
    if (this.received === this.count) this.done();
  }
}

// Opened at once: an open stdin also keeps Node alive while the core logs in (the binding's
// event callback does not hold the event loop open).
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Announce readiness, run the measured part between `go` and the last message, report. */
async function run(tally, extra = () => ({}), onGo = () => {}) {
  console.log('ready');
  await lines.next();
  onGo();
  const start = performance.now();
  tally.start = start;
  await tally.finished;
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({
    received: tally.received,
    duplicates: tally.duplicates,
    outOfOrder: tally.outOfOrder,
    unexpected: tally.unexpected,
    crossed: tally.crossed,
    seconds,
    latenciesUs: tally.latenciesUs.sort((a, b) => a - b),
    ...extra(),
  }));
  await lines.next();
}

// The core's access rules opened to every sender in every room, so each flood message is
// delivered to the host (the peers have no rules to open).
const OPEN_TO_ALL = {
  chatmode: 'onmessage',
  requireMention: false,
  dmPolicy: 'open',
  allowFrom: ['*'],
  groupPolicy: 'open',
  groupAllowFrom: ['*'],
};

// Busy rooms: the account's default access rules (groupPolicy allowlist, requireMention) with
// the flood's sender on the allowlist.
const DEFAULT_RULES = { groupAllowFrom: ['@alice'] };

/** Busy rooms, for the peers (which have no access rules): the check a bot makes in JS. */
const forBot = (msg) =>
  msg.u?.username === 'alice' && Array.isArray(msg.mentions) && msg.mentions.some((m) => m._id === process.env.BENCH_BOT_ID);

module.exports = { ROOT, PEERS, OPEN_TO_ALL, DEFAULT_RULES, args, forBot, Tally, run };
