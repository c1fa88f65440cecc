// A slow JavaScript consumer: every message is delivered exactly once, in order, while the
// core holds events back (small eventCapacity, so producers really wait).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'

import { ALICE_DM, EventTracker, binding, botConfig, startSimulator } from './helpers.mjs'

const N = 500
const BLOCK_MS = 50

/** Post `n` messages as alice from a worker thread, so the slow callback on the main thread
 * does not slow the producer. Resolves with the posted ids in order. */
function postFromWorker(url, n) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    ;(async () => {
      const ids = []
      for (let i = 0; i < workerData.n; i++) {
        const res = await fetch(workerData.url + '/_sim/post', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: 'alice', rid: workerData.rid, msg: 'load ' + i }),
        })
        if (!res.ok) throw new Error('post failed: ' + res.status)
        ids.push((await res.json()).message._id)
      }
      parentPort.postMessage(ids)
    })().catch((e) => { throw e })
  `
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { url, n, rid: ALICE_DM } })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}

test(`slow consumer (${BLOCK_MS} ms per batch): ${N} messages, each once, in order`, async (t) => {
  const sim = await startSimulator()
  const core = new binding.RocketChatCore({ eventCapacity: 64 })
  let maxBatch = 0
  const tracker = new EventTracker(core, {
    onBatch(batch) {
      maxBatch = Math.max(maxBatch, batch.length)
      const until = Date.now() + BLOCK_MS
      while (Date.now() < until) {
        // block the JS thread like a slow handler would
      }
    },
  })
  try {
    await core.applyConfig({ config: botConfig(sim.url) })
    await tracker.waitFor((e) => e.type === 'authenticated', 15000)
    const posted = await postFromWorker(sim.url, N)
    assert.equal(posted.length, N)
    const isLoad = (e) => e.type === 'message' && e.message.text.startsWith('load ')
    await tracker.waitForCount(isLoad, N, 60000, 'load messages')
    await new Promise((r) => setTimeout(r, 300))
    const received = tracker.events.filter(isLoad).map((e) => e.message.messageId)
    assert.equal(received.length, N, 'no duplicates')
    assert.deepEqual(received, posted, 'all delivered, in posting order')
    const seqs = tracker.events.map((e) => e.seq)
    assert.equal(new Set(seqs).size, seqs.length, 'every event once')
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in sequence order')
    assert.ok(tracker.batches < N, `events were batched (${tracker.batches} batches for ${N})`)
    assert.ok(maxBatch <= 256, `batches are bounded (${maxBatch})`)
    t.diagnostic(`${tracker.batches} batches, largest ${maxBatch}, ${tracker.events.filter((e) => e.type === "overflow").length} overflow events`)
    const status = await core.status({ accountId: 'default' })
    assert.ok(status.delivered >= N)
  } finally {
    await core.close()
    sim.stop()
  }
})
