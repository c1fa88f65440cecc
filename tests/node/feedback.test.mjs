// Reactions and read state around a turn (npm/src/feedback.js), against OpenClaw's real SDK
// (its ack scope and status-reaction controller) with a core that records the verbs called.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { sdkTestsIn } from './openclaw-sdk.mjs'

await sdkTestsIn(fileURLToPath(import.meta.url), 'turn feedback', sdkTests)

async function sdkTests() {
const { turnFeedback } = await import('../../npm/src/feedback.js')

const rc = { baseUrl: 'https://chat.example.com', authToken: 't', userId: 'u' }
const m = { messageId: 'M1', roomId: 'R1' }
function recorder() {
  const calls = []
  return {
    calls,
    reactions: () => calls.filter((c) => c.verb === 'react').map((c) => `${c.add === false ? '-' : '+'}${c.emoji}`),
    core: {
      react: async (a) => { calls.push({ verb: 'react', ...a }) },
      markRead: async (a) => { calls.push({ verb: 'markRead', ...a }) },
    },
  }
}
const feedback = (cfg, rec, extra = {}) => turnFeedback({ cfg, core: rec.core, accountId: 'default', agentId: 'main', m, kind: 'channel', wasMentioned: true, ...extra })
async function until(what, ok, ms = 10000) {
  for (const end = Date.now() + ms; !ok(); ) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('by default a mention in a group gets 👀, a DM or an unmentioned message none, and the room is not marked read', async () => {
  const rec = recorder()
  const cfg = { channels: { rocketchat: rc } }
  const f = feedback(cfg, rec)
  f.accepted()
  f.answered()
  f.finished()
  feedback(cfg, rec, { kind: 'direct', wasMentioned: false }).accepted()
  feedback(cfg, rec, { wasMentioned: false }).accepted()
  await until('the ack', () => rec.calls.length >= 1)
  assert.deepEqual(rec.reactions(), ['+👀'])
  assert.equal(rec.calls[0].messageId, 'M1')
  assert.equal(rec.calls.filter((c) => c.verb === 'markRead').length, 0)
})

test('ackReaction "" (the account, the channel or messages.*) turns it off; ackReactionScope "all" covers DMs', async () => {
  const rec = recorder()
  feedback({ channels: { rocketchat: { ...rc, ackReaction: '' } } }, rec).accepted()
  feedback({ messages: { ackReaction: '' }, channels: { rocketchat: rc } }, rec).accepted()
  feedback({ messages: { ackReactionScope: 'all', ackReaction: '⏳' }, channels: { rocketchat: rc } }, rec, { kind: 'direct', wasMentioned: false }).accepted()
  await until('the DM ack', () => rec.calls.length >= 1)
  assert.deepEqual(rec.reactions(), ['+⏳'])
})

test('with statusReactions the reaction ends ✅ when answered and ❌ when the turn failed, the 👀 taken off', async () => {
  const cfg = { messages: { statusReactions: { enabled: true } }, channels: { rocketchat: rc } }
  const ok = recorder()
  const f = feedback(cfg, ok)
  f.accepted()
  f.working()
  f.answered()
  f.finished()
  await until('✅', () => ok.reactions().includes('+✅') && ok.reactions().includes('-👀'))
  assert.equal(ok.reactions()[0], '+👀')
  assert.ok(!ok.reactions().includes('+❌'))
  const bad = recorder()
  const g = feedback(cfg, bad)
  g.accepted()
  g.answered()
  g.failed()
  g.finished()
  await until('❌', () => bad.reactions().includes('+❌') && bad.reactions().includes('-👀'))
  assert.ok(!bad.reactions().includes('+✅'))
})

test('sendReadReceipts marks the room and its threads read when the turn ends, per account', async () => {
  const rec = recorder()
  const cfg = { messages: { ackReaction: '' }, channels: { rocketchat: { ...rc, accounts: { ops: { sendReadReceipts: true } } } } }
  const f = feedback(cfg, rec, { accountId: 'ops' })
  f.accepted()
  assert.equal(rec.calls.length, 0, 'not before the turn is over')
  f.finished()
  await until('markRead', () => rec.calls.length >= 1)
  assert.deepEqual(rec.calls, [{ verb: 'markRead', accountId: 'ops', target: 'room:R1', readThreads: true }])
  feedback(cfg, rec).finished()
  await new Promise((r) => setImmediate(r))
  assert.equal(rec.calls.length, 1, 'the default account does not mark read')
})

test('a failing reaction or markRead is only logged', async () => {
  const logged = []
  const core = { react: async () => { throw new Error('Invalid emoji provided.') }, markRead: async () => { throw new Error('403') } }
  const cfg = { channels: { rocketchat: { ...rc, sendReadReceipts: true } } }
  const f = turnFeedback({ cfg, core, accountId: 'default', agentId: 'main', m, kind: 'channel', wasMentioned: true, log: { debug: (l) => logged.push(l) } })
  f.accepted()
  f.finished()
  await until('both logged', () => logged.length >= 2)
  assert.match(logged.join('\n'), /ack reaction failed: Invalid emoji/)
  assert.match(logged.join('\n'), /marking the room read failed: 403/)
})
}
