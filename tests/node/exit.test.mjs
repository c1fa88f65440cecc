// Node exits by itself: after close(), and even when an onEvent subscription (or the whole
// core) was forgotten. Each case runs in a child node process that never calls process.exit.
// Event callbacks are weak, so a child that only waits for events would exit early: the child
// holds the loop with its own interval (\`keep\`) while it waits and clears it at the point
// where only the core could still keep Node alive.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, test } from 'node:test'

import { ALICE_DM, BINDING_DIR, startSimulator } from './helpers.mjs'

const EXIT_WITHIN_MS = 8000

function runChild(body, env = {}, limitMs = EXIT_WITHIN_MS) {
  const script = `
    const { RocketChatCore } = require(${JSON.stringify(BINDING_DIR)})
    const botConfig = (url) => ({ baseUrl: url, authToken: process.env.PAT, userId: process.env.BOT_ID,
      dmPolicy: 'open', allowFrom: ['*'] })
    const keep = setInterval(() => {}, 1000)
    ;(async () => { ${body} })().catch((e) => { console.error('child failed:', e); process.exitCode = 3 })
  `
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err, ms: Date.now() - started })
    })
  })
}

let sim
before(async () => {
  sim = await startSimulator()
})
after(() => sim?.stop())

const env = () => ({ SIM_URL: sim.url, PAT: 'Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c', BOT_ID: 'Bq7dYg4KxWnZcT3rA' })

test('the process exits by itself once close() resolved', async () => {
  const r = await runChild(
    `
    const core = new RocketChatCore()
    let authenticated
    const ready = new Promise((res) => (authenticated = res))
    core.onEvent((batch) => { if (batch.some((s) => JSON.parse(s).type === 'authenticated')) authenticated() })
    await core.applyConfig({ config: botConfig(process.env.SIM_URL) })
    await ready
    await core.close()
    clearInterval(keep)
    console.log('closed')
  `,
    env(),
  )
  assert.equal(r.signal, null, `killed after ${EXIT_WITHIN_MS} ms: ${r.err}`)
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /closed/)
})

test('a forgotten onEvent subscription does not keep Node alive', async () => {
  const r = await runChild(`
    const core = new RocketChatCore()
    core.onEvent(() => {})
    clearInterval(keep)
    console.log('subscribed')
  `)
  assert.equal(r.signal, null, `killed after ${EXIT_WITHIN_MS} ms: ${r.err}`)
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /subscribed/)
})

test('a forgotten core with a running account does not keep Node alive', async () => {
  const r = await runChild(
    `
    const core = new RocketChatCore()
    const ready = new Promise((res) => core.onEvent((b) => b.some((s) => s.includes('"authenticated"')) && res()))
    await core.applyConfig({ config: botConfig(process.env.SIM_URL) })
    await ready
    clearInterval(keep)
    console.log('left running')
  `,
    env(),
  )
  assert.equal(r.signal, null, `killed after ${EXIT_WITHIN_MS} ms: ${r.err}`)
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /left running/)
})

test('close() finishes and the process exits while the event queue is full and nobody reads', async () => {
  // A host that only sends: it listened until the bot was ready, then unsubscribed (as the
  // plugin does before closing); more messages arrive than the queue holds.
  const limitMs = 30000
  const r = await runChild(
    `
    const capacity = 8
    const core = new RocketChatCore({ eventCapacity: capacity })
    let authenticated
    const ready = new Promise((res) => (authenticated = res))
    const sub = core.onEvent((batch) => { if (batch.some((s) => JSON.parse(s).type === 'authenticated')) authenticated() })
    await core.applyConfig({ config: botConfig(process.env.SIM_URL) })
    await ready
    sub.unsubscribe()
    const flood = await fetch(process.env.SIM_URL + '/_sim/flood', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', count: capacity * 4, rooms: [process.env.DM] }),
    })
    if (!flood.ok) throw new Error('flood: ' + flood.status)
    // The account counts a message as delivered just before it waits for room.
    const deadline = Date.now() + 20000
    while ((await core.status({ accountId: 'default' })).delivered <= capacity) {
      if (Date.now() > deadline) throw new Error('the queue never filled')
      await new Promise((res) => setTimeout(res, 20))
    }
    console.log('queue full')
    await core.close()
    clearInterval(keep)
    console.log('closed')
  `,
    { ...env(), DM: ALICE_DM },
    limitMs,
  )
  assert.equal(r.signal, null, `killed after ${limitMs} ms: ${r.out} ${r.err}`)
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /queue full\nclosed/)
})
