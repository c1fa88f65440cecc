// Outbound streaming: one long reply arriving as blocks over time (bench/clients/core-stream.js),
// through the core's coalescer as the plugin uses it (block streaming; the live message) and,
// against it, every block sent as its own message. Alice watches the room over DDP as a
// Rocket.Chat app would: when the first text of the reply shows, when all of it does. The
// simulator counts the REST calls (GET /_sim/answered); a simulator per mode keeps them apart.
import { createRequire } from 'node:module'
import { join } from 'node:path'

import { ALICE_TOKEN, GENERAL, startSimulator, watchRoom } from '../tests/e2e/simulator.mjs'

export const STREAM_MODES = [
  { key: 'each', name: 'sendText per block' },
  { key: 'block', name: 'stream (block streaming)' },
  { key: 'partial', name: 'stream (live message)' },
]

// The calls that write the reply; everything else the core does (login, rooms) is not the reply's.
const WRITES = { post: ['chat.sendMessage', 'chat.postMessage'], edit: ['chat.update'], del: ['chat.delete'] }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The room as alice saw it, event by event: when reply text first showed and when all of it did. */
function replay(events, reply, { normalize, PLACEHOLDER }) {
  const shown = new Map() // message id -> latest text, in the order they were posted
  let first
  for (const e of events) {
    if (e.kind !== 'message' || e.user !== 'mybot') continue
    shown.set(e.id, e.text)
    if (first === undefined && e.text.trim() && e.text !== PLACEHOLDER) first = e.wall
    if (normalize([...shown.values()].join(' ')) === reply) return { first, complete: e.wall }
  }
  return { first }
}

/** One mode on a fresh simulator. */
async function streamMode(o, measure, mode, text) {
  const sim = await startSimulator({ bin: o.sim, args: ['--no-greeting'] })
  try {
    const watch = await watchRoom(sim.wsUrl, ALICE_TOKEN, GENERAL)
    const client = { key: `stream ${mode.key}`, cmd: process.execPath, pre: [join(o.root, 'bench', 'clients', 'core-stream.js')], url: 'http' }
    const r = await measure(sim, client, { count: o.streamBlocks, outbound: true }, mode.key, o.budget * 1000)
    const reply = text.normalize(text.replyText(o.streamBlocks))
    // The core has sent everything; the last broadcast may still be on its way to alice.
    let seen = replay(watch.events, reply, text)
    for (let waited = 0; seen.complete === undefined && waited < 5000; waited += 20) {
      await sleep(20)
      seen = replay(watch.events, reply, text)
    }
    watch.close()
    const stored = (await sim.messages(GENERAL, 'mybot')).messages.map((m) => m.msg)
    const answered = (await (await fetch(`${sim.url}/_sim/answered`)).json()).answered
    const calls = (names) => names.reduce((n, name) => n + (answered[`/api/v1/${name}`] ?? 0), 0)
    const [posts, edits, deletes] = [calls(WRITES.post), calls(WRITES.edit), calls(WRITES.del)]
    const complete = text.normalize(stored.join(' ')) === reply
    return {
      ...mode,
      rest: posts + edits + deletes,
      posts,
      edits,
      deletes,
      messages: stored.length,
      firstMs: seen.first - r.firstBlockAt,
      completeMs: seen.complete - r.firstBlockAt,
      afterLastMs: seen.complete - r.lastBlockAt,
      spanMs: r.lastBlockAt - r.firstBlockAt,
      // The whole reply in order, in the store and as alice saw it; the core's list matches.
      ok: complete && seen.complete !== undefined && r.received === stored.length,
    }
  } finally {
    await sim.stop()
  }
}

/** Every mode in turn. */
export async function streamRun(o, measure) {
  const peers = createRequire(join(o.root, 'tests', 'conformance', 'node', 'node_modules', 'noop.js'))
  // Node 20 has no WebSocket global: the peers' `ws` stands in for alice's socket.
  globalThis.WebSocket ??= peers('ws')
  const text = createRequire(import.meta.url)('./clients/stream-reply.js')
  const rows = []
  for (const mode of STREAM_MODES) {
    const r = await streamMode(o, measure, mode, text)
    process.stderr.write(`  stream ${mode.key}: ${r.rest} REST calls, ${r.messages} messages, ok=${r.ok}\n`)
    rows.push(r)
  }
  return rows
}

const pad = (s, n) => String(s).padStart(n)
const ms = (x) => (Number.isFinite(x) ? String(Math.round(x)) : '-')

export function printStream(rows, o) {
  // Each mode's own timers pace its blocks: the spans differ a little.
  const spans = rows.map((r) => r.spanMs)
  const span = `${ms(Math.min(...spans))}-${ms(Math.max(...spans))}`
  const out = ['']
  out.push(`Outbound streaming: one reply of ${o.streamBlocks} blocks (80-200 chars, one every 10-20 ms: ${span} ms of streaming),`)
  out.push('the plugin\'s defaults (blockStreamingCoalesce 1500 chars / 1 s idle, textChunkLimit 4000); REST calls = chat.sendMessage')
  out.push('+ chat.update + chat.delete; times from the first block handed to the core to what alice sees over DDP')
  out.push(`${'mode'.padEnd(28)}${pad('REST calls', 11)}${pad('posts', 7)}${pad('edits', 7)}${pad('messages', 10)}${pad('first text ms', 15)}${pad('complete ms', 13)}${pad('after last ms', 15)}  ok`)
  for (const r of rows) {
    out.push(
      `${r.name.padEnd(28)}${pad(r.rest, 11)}${pad(r.posts, 7)}${pad(r.edits, 7)}${pad(r.messages, 10)}` +
        `${pad(ms(r.firstMs), 15)}${pad(ms(r.completeMs), 13)}${pad(ms(r.afterLastMs), 15)}  ${r.ok ? 'yes' : 'NO'}`,
    )
  }
  console.log(out.join('\n'))
}

/** `--only stream`: this row alone (and its smoke check). */
export async function streamOnly(o, measure) {
  const rows = await streamRun(o, measure)
  printStream(rows, o)
  if (o.smoke && rows.some((r) => !r.ok)) {
    console.error(`bench --smoke: incomplete rows: ${rows.filter((r) => !r.ok).map((r) => `stream ${r.key}`).join('; ')}`)
    process.exit(1)
  }
}
