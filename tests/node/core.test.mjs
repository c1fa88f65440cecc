// The binding end to end against the simulator: config, events, send, status, errors.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { ALICE_DM, BOT, EventTracker, binding, botConfig, sleep, startSimulator } from './helpers.mjs'

const { RocketChatCore } = binding

describe('RocketChatCore against the simulator', () => {
  let sim
  let core
  let tracker

  before(async () => {
    sim = await startSimulator()
    core = new RocketChatCore({ workerThreads: 2 })
    tracker = new EventTracker(core)
    const report = await core.applyConfig({ config: botConfig(sim.url) })
    assert.deepEqual(report.started, ['default'])
    assert.deepEqual(report.restarted, [])
    await tracker.waitFor((e) => e.type === 'authenticated', 15000, 'authenticated')
  })

  after(async () => {
    await core?.close()
    sim?.stop()
  })

  test('authenticated event carries the envelope and the bot identity', () => {
    const auth = tracker.events.find((e) => e.type === 'authenticated')
    assert.equal(auth.v, 2)
    assert.equal(auth.accountId, 'default')
    assert.equal(auth.userId, BOT.userId)
    assert.equal(auth.username, BOT.username)
    assert.equal(typeof auth.seq, 'number')
    assert.equal(typeof auth.ts, 'number')
    const seqs = tracker.events.map((e) => e.seq)
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'events arrive in sequence order')
  })

  test('a message from alice arrives as a message event, and sendText replies', async () => {
    const posted = await sim.post('alice', ALICE_DM, 'hello bot')
    const event = await tracker.waitFor(
      (e) => e.type === 'message' && e.message.messageId === posted._id,
      10000,
      'message event',
    )
    const m = event.message
    assert.equal(event.accountId, 'default')
    assert.equal(m.accountId, 'default')
    assert.equal(m.roomId, ALICE_DM)
    assert.equal(m.roomType, 'd')
    assert.equal(m.text, 'hello bot')
    assert.equal(m.sender.username, 'alice')
    assert.equal(m.sender.id, 'k9ZfTqW2mHs8PxLcE')
    assert.equal(m.source, 'live')
    assert.equal(m.isEdit, false)
    assert.equal(m.threadShown, false)
    assert.deepEqual(m.attachments, [])
    assert.equal(typeof m.ts, 'number')
    assert.equal(typeof m.mentions.botMentioned, 'boolean')

    const [sent, ...more] = await core.sendText({ accountId: 'default', target: `room:${m.roomId}`, text: 'hi alice' })
    assert.equal(more.length, 0, 'a short text is one message')
    assert.equal(typeof sent.id, 'string')
    assert.equal(sent.roomId, ALICE_DM)
    assert.equal(sent.text, 'hi alice')
    const mine = await sim.messages({ user: 'mybot' })
    assert.ok(
      mine.some((x) => x._id === sent.id && x.msg === 'hi alice' && x.rid === ALICE_DM),
      'the simulator stored the reply',
    )
    await tracker.waitFor((e) => e.type === 'sent' && e.messageId === sent.id, 5000, 'sent event')
  })

  test('a reply in a thread keeps the thread id', async () => {
    const root = await sim.post('alice', ALICE_DM, 'thread root')
    const [sent] = await core.sendText({ accountId: 'default', target: ALICE_DM, text: 'in thread', threadId: root._id })
    assert.equal(sent.threadId, root._id)
    const stored = (await sim.messages({ user: 'mybot' })).find((x) => x._id === sent.id)
    assert.equal(stored.tmid, root._id, 'the server stored it in the thread')
  })

  test('sends made without awaiting each are posted in the order they were made', async () => {
    const texts = Array.from({ length: 30 }, (_, i) => `order ${i}`)
    // Mixed spellings of the same room share one queue.
    const targets = [ALICE_DM, `room:${ALICE_DM}`]
    const sent = await Promise.all(texts.map((text, i) => core.sendText({ accountId: 'default', target: targets[i % 2], text })))
    const ids = new Set(sent.flat().map((m) => m.id))
    const stored = (await sim.messages({ rid: ALICE_DM, user: 'mybot' })).filter((m) => ids.has(m._id))
    assert.deepEqual(stored.map((m) => m.msg), texts)
  })

  test('status: one account by id, all without, null for an unknown id', async () => {
    const one = await core.status({ accountId: 'default' })
    assert.equal(one.accountId, 'default')
    assert.equal(one.enabled, true)
    assert.equal(one.baseUrl.replace(/\/$/, ''), sim.url)
    assert.equal(one.state, 'ready')
    assert.equal(one.userId, BOT.userId)
    assert.equal(one.username, BOT.username)
    for (const k of ['reconnects', 'delivered', 'caughtUp', 'edits', 'sent']) {
      assert.equal(typeof one[k], 'number', k)
    }
    assert.ok(one.delivered >= 1)
    assert.ok(one.sent >= 1)
    assert.equal(typeof one.dropped, 'object')
    assert.ok(!JSON.stringify(one).includes(BOT.pat), 'no token in the status')
    const all = await core.status()
    assert.ok(Array.isArray(all))
    assert.deepEqual(
      all.map((s) => s.accountId),
      ['default'],
    )
    assert.equal(await core.status({ accountId: 'nope' }), null)
  })

  test('re-applying the same config leaves the account untouched', async () => {
    const report = await core.applyConfig({ config: botConfig(sim.url) })
    assert.deepEqual(report.unchanged, ['default'])
    assert.deepEqual(report.started, [])
  })

  test('errors: NOT_FOUND for an unknown account, INVALID_ARGUMENT for a bad target', async () => {
    await assert.rejects(core.sendText({ accountId: 'ghost', target: ALICE_DM, text: 'x' }), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.code, 'NOT_FOUND')
      assert.match(e.message, /ghost/)
      return true
    })
    await assert.rejects(core.sendText({ accountId: 'default', target: '#', text: 'x' }), { code: 'INVALID_ARGUMENT' })
    assert.equal(await core.stopAccount({ accountId: 'ghost' }), false)
  })

  test('unsubscribe stops delivery to that callback', async () => {
    const second = new EventTracker(core)
    const first = await sim.post('alice', ALICE_DM, 'before unsubscribe')
    const isFirst = (e) => e.type === 'message' && e.message.messageId === first._id
    await tracker.waitFor(isFirst)
    await second.waitFor(isFirst, 10000, 'the message at the second subscriber')
    assert.equal(second.subscription.unsubscribe(), true)
    assert.equal(second.subscription.unsubscribe(), false, 'idempotent')
    const count = second.events.length
    const later = await sim.post('alice', ALICE_DM, 'after unsubscribe')
    await tracker.waitFor((e) => e.type === 'message' && e.message.messageId === later._id)
    await sleep(200)
    assert.equal(second.events.length, count, 'nothing delivered after unsubscribe')
  })
})

describe('RocketChatCore without a server', () => {
  test('invalid config rejects with CONFIG, names the key, hides the secret', async () => {
    const core = new RocketChatCore()
    try {
      const secret = 'tok-VERY-secret-value-123'
      const err = await core
        .applyConfig({
          config: {
            baseUrl: 'ftp://nowhere',
            authToken: secret,
            userId: 'u1',
            accounts: { second: { baseUrl: 'http://x', password: secret, dmPolicy: 'bogus' } },
          },
        })
        .then(
          () => assert.fail('should reject'),
          (e) => e,
        )
      assert.ok(err instanceof Error)
      assert.equal(err.code, 'CONFIG')
      assert.match(err.message, /baseUrl/)
      assert.match(err.message, /accounts\.second\.dmPolicy/)
      assert.ok(!err.message.includes(secret), 'no secret in the message')
      assert.ok(Array.isArray(err.problems))
      assert.ok(err.problems.some((p) => p.path === 'baseUrl'))
      assert.ok(!JSON.stringify(err.problems).includes(secret))
      assert.deepEqual(await core.status(), [], 'nothing started')
    } finally {
      await core.close()
    }
  })

  test('bad constructor options throw CONFIG', () => {
    assert.throws(() => new RocketChatCore({ workerThreads: 0 }), { code: 'CONFIG' })
    assert.throws(() => new RocketChatCore({ eventCapacity: 0 }), { code: 'CONFIG' })
  })

  test('after close: calls reject with CLOSED, onEvent throws, close is idempotent', async () => {
    const core = new RocketChatCore()
    assert.equal(core.closed, false)
    await Promise.all([core.close(), core.close()])
    assert.equal(core.closed, true)
    await core.close()
    await assert.rejects(core.applyConfig({ config: {} }), { code: 'CLOSED' })
    await assert.rejects(core.status(), { code: 'CLOSED' })
    await assert.rejects(core.sendText({ accountId: 'default', target: ALICE_DM, text: 'x' }), { code: 'CLOSED' })
    assert.throws(() => core.onEvent(() => {}), { code: 'CLOSED' })
  })

  test('Symbol.asyncDispose closes the core', async () => {
    const core = new RocketChatCore()
    assert.equal(typeof core[Symbol.asyncDispose], 'function')
    await core[Symbol.asyncDispose]()
    assert.equal(core.closed, true)
    const sub = new RocketChatCore()
    const s = sub.onEvent(() => {})
    assert.equal(typeof s[Symbol.dispose], 'function')
    s[Symbol.dispose]()
    assert.equal(s.unsubscribe(), false)
    await sub.close()
  })

  test('schemas are JSON Schema objects', () => {
    const config = RocketChatCore.configSchema()
    assert.equal(config.title, 'channels.rocketchat')
    assert.ok(config.properties.baseUrl)
    const events = RocketChatCore.eventSchema()
    assert.equal(events.title, 'EventEnvelope')
    assert.ok(events.oneOf.length >= 18)
  })
})
