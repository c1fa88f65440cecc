'use strict';
// The client side of the harness's line protocol (bench/README.md), shared by the Node clients:
// print `ready`, wait for `go`, count the flood's `seq=<n> t=<µs>` texts, print one JSON result,
// exit on `quit`.
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..', '..');
const PEERS = require('node:module').createRequire(
  path.join(ROOT, 'tests', 'conformance', 'node', 'package.json'));

/** argv: URL COUNT [latency] */
function args() {
  const [url, count, mode] = process.argv.slice(2);
  return { url, count: Number(count), latency: mode === 'latency' };
}

const PROGRESS_EVERY = 100;

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

class Tally {
  constructor(count, latency) {
    this.seen = new Uint8Array(count);
    this.count = count;
    this.latency = latency;
    this.received = 0;
    this.duplicates = 0;
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
    if (!(seq >= 0 && seq < this.count) || this.seen[seq]) { this.duplicates += 1; return; }
    this.seen[seq] = 1;
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

module.exports = { ROOT, PEERS, OPEN_TO_ALL, args, Tally, run };
