// Where answers go (npm/src/threading.js): replyToMode per kind of room, and the thread of a
// turn and of each message of its answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { replyThread, replyThreadingPolicy, resolveReplyToMode, turnThread } from '../../npm/src/threading.js'

const cfg = (section) => ({ channels: { rocketchat: { baseUrl: 'https://chat.example.com', ...section } } })

test('replyToMode: off by default; per kind of room; DMs flat unless direct is set; the account over the top level', () => {
  assert.equal(resolveReplyToMode(cfg({}), 'default', 'channel'), 'off')
  const c = cfg({ replyToMode: 'first', accounts: { ops: { replyToMode: 'all', replyToModeByChatType: { group: 'batched' } } } })
  assert.equal(resolveReplyToMode(c, 'default', 'channel'), 'first')
  assert.equal(resolveReplyToMode(c, 'default', 'group'), 'first')
  assert.equal(resolveReplyToMode(c, 'default', 'direct'), 'off')
  assert.equal(resolveReplyToMode(c, 'ops', 'channel'), 'all')
  assert.equal(resolveReplyToMode(c, 'ops', 'group'), 'batched')
  assert.equal(resolveReplyToMode(cfg({ replyToModeByChatType: { direct: 'all' } }), 'default', 'direct'), 'all')
  // Nonsense falls back (the core's config check reports it).
  assert.equal(resolveReplyToMode(cfg({ replyToMode: 'sometimes' }), 'default', 'channel'), 'off')
})

test('a turn: its own thread, else a new one under it when the mode threads it', () => {
  const top = { messageId: 'M1', roomId: 'R' }
  const inThread = { messageId: 'M2', roomId: 'R', threadId: 'T' }
  assert.equal(turnThread(inThread, 'off'), 'T')
  assert.equal(turnThread(top, 'off'), undefined)
  assert.equal(turnThread(top, 'first'), 'M1')
  assert.equal(turnThread(top, 'all'), 'M1')
  assert.equal(turnThread(top, 'batched'), undefined)
  assert.equal(turnThread({ ...top, batchSize: 3 }, 'batched'), 'M1')
  assert.deepEqual(replyThreadingPolicy('batched', top), { implicitCurrentMessage: 'deny' })
  assert.deepEqual(replyThreadingPolicy('batched', { ...top, batchSize: 2 }), { implicitCurrentMessage: 'allow' })
  assert.equal(replyThreadingPolicy('all', top), undefined)
})

test('each message of an answer: in the thread it was asked in, else where the dispatcher points it', () => {
  const top = { messageId: 'M1', roomId: 'R' }
  assert.equal(replyThread(top, { text: 'a' }), undefined)
  assert.equal(replyThread(top, { text: 'a', replyToId: 'M1' }), 'M1')
  assert.equal(replyThread({ ...top, threadId: 'T' }, { text: 'a' }), 'T')
  assert.equal(replyThread({ ...top, threadId: 'T' }, { text: 'a', replyToId: 'M1' }), 'T')
})
