'use strict';
// Outbound streaming: one long agent reply arriving as COUNT blocks over time, as a model
// streams it, handed to the core in one of three ways (the MODE argument):
//   block    streamStart, streamPush per block, streamFinish: the plugin's `streaming.mode:
//            "block"` (the core's coalescer posts what it buffered, new messages)
//   partial  the same with a placeholder: the plugin's live message (`"partial"`), edited
//            into the reply as it grows
//   each     sendText per block, not awaited (the core keeps their order): no coalescing
// Speaks the line protocol; the result adds the epoch milliseconds of the first and last block
// handed to the core and of the moment the core said the reply was sent, for the driver, which
// watches the room as alice.
const path = require('node:path');
const { ROOT, run } = require('./harness');
const { replyBlocks, JOINER, PLACEHOLDER } = require('./stream-reply');

const { RocketChatCore } = require(path.join(ROOT, 'bindings', 'node'));
const [url, count, mode] = process.argv.slice(2);
const target = `room:${process.env.BENCH_STREAM_ROOM || 'GENERAL'}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  if (!['block', 'partial', 'each'].includes(mode)) throw new Error(`unknown mode ${mode}`);
  const core = new RocketChatCore();
  let authenticated;
  const ready = new Promise((resolve) => { authenticated = resolve; });
  core.onEvent((batch) => { if (batch.some((e) => e.includes('"type":"authenticated"'))) authenticated(); });
  // The plugin's defaults (blockStreamingCoalesce 1500 chars / 1 s idle, textChunkLimit 4000).
  await core.applyConfig({ config: { baseUrl: url, authToken: process.env.BENCH_BOT_PAT, userId: process.env.BENCH_BOT_ID } });
  await ready;
  const blocks = replyBlocks(Number(count));
  const times = {};
  const tally = { received: 0, duplicates: 0, outOfOrder: 0, latenciesUs: [] };
  let go;
  const started = new Promise((resolve) => { go = resolve; });
  tally.finished = (async () => {
    await started;
    const accountId = 'default';
    let sent;
    if (mode === 'each') {
      const sends = [];
      for (const b of blocks) {
        times.firstBlockAt ??= Date.now();
        sends.push(core.sendText({ accountId, target, text: b.text }));
        times.lastBlockAt = Date.now();
        await sleep(b.delayMs);
      }
      sent = (await Promise.all(sends)).flat();
    } else {
      const placeholder = mode === 'partial' ? PLACEHOLDER : undefined;
      const { streamId } = await core.streamStart({ accountId, target, placeholder });
      for (const [i, b] of blocks.entries()) {
        times.firstBlockAt ??= Date.now();
        // As the plugin pushes them: OpenClaw trims blocks, the separator goes back in front.
        await core.streamPush({ streamId, text: i ? JOINER + b.text : b.text });
        times.lastBlockAt = Date.now();
        await sleep(b.delayMs);
      }
      sent = await core.streamFinish({ streamId });
    }
    times.sentAt = Date.now();
    tally.received = sent.length;
  })();
  await run(tally, () => times, go);
  await core.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
