// Group history (npm/src/history.js): which of a room's recent messages the agent is given.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MAX_HISTORY_CHARS, fetchContext, resolveHistoryLimit, selectHistory } from '../../npm/src/history.js'

const BOT = 'bot-id'
let n = 0
const msg = (user, text, extra = {}) => ({
  messageId: `m${++n}`,
  ts: 1000 + n,
  text,
  sender: { id: `${user}-id`, username: user, name: user === 'alice' ? 'Alice' : undefined },
  files: [],
  attachments: [],
  threadShown: false,
  ...extra,
})
const bodies = (entries) => entries.map((e) => e.body)

test('since the bot last spoke, without the trigger, oldest first', () => {
  const old = msg('alice', 'answered already')
  const bot = msg('bot', 'my answer', { sender: { id: BOT, username: 'mybot' } })
  const a = msg('alice', 'one')
  const b = msg('carol', 'two')
  const trigger = msg('alice', '@mybot what now?')
  const later = msg('alice', 'after the trigger')
  const got = selectHistory([old, bot, a, b, trigger, later], { trigger, botUserId: BOT, limit: 50 })
  assert.deepEqual(bodies(got), ['one', 'two'])
  assert.deepEqual(got[0], { sender: 'Alice', body: 'one', timestamp: a.ts, messageId: a.messageId })
  assert.equal(got[1].sender, 'carol')
})

test('the limit keeps the newest; room context skips thread-only replies, the bot\'s included', () => {
  const root = msg('alice', 'root')
  const inThread = msg('alice', 'thread only', { threadId: root.messageId })
  const botInThread = msg('bot', 'answered in the thread', { threadId: root.messageId, sender: { id: BOT, username: 'mybot' } })
  const shown = msg('alice', 'also in room', { threadId: root.messageId, threadShown: true })
  const c = msg('alice', 'newest')
  const trigger = msg('alice', '@mybot hi')
  const all = [root, inThread, botInThread, shown, c, trigger]
  assert.deepEqual(bodies(selectHistory(all, { trigger, botUserId: BOT, limit: 2 })), ['also in room', 'newest'])
  // The bot's thread reply ends the thread's history, not the room's.
  assert.deepEqual(bodies(selectHistory(all, { trigger, botUserId: BOT, limit: 10 })), ['root', 'also in room', 'newest'])
  const thread = selectHistory(all, { trigger, botUserId: BOT, limit: 10, threadId: root.messageId })
  assert.deepEqual(bodies(thread), ['also in room', 'newest'])
})

test('a character budget, each message clipped; files named', () => {
  const big = Array.from({ length: 20 }, () => msg('alice', 'x'.repeat(5000)))
  const file = msg('alice', '', { files: [{ id: 'f', name: 'log.txt' }] })
  const trigger = msg('alice', '@mybot look')
  const got = selectHistory([...big, file, trigger], { trigger, botUserId: BOT, limit: 50 })
  assert.equal(got.at(-1).body, '[file: log.txt]')
  assert.ok(got.every((e) => e.body.length <= 1000))
  assert.ok(bodies(got).join('').length <= MAX_HISTORY_CHARS)
  assert.ok(got.length > 2)
})

test('historyLimit: OpenClaw default 50, 0 disables, nonsense ignored', () => {
  assert.equal(resolveHistoryLimit({}), 50)
  assert.equal(resolveHistoryLimit({ messages: { groupChat: { historyLimit: 0 } } }), 0)
  assert.equal(resolveHistoryLimit({ messages: { groupChat: { historyLimit: -3 } } }), 0)
  assert.equal(resolveHistoryLimit({ messages: { groupChat: { historyLimit: 'x' } } }), 50)
})

test('a failing fetch is logged and gives no history; 0 does not ask the server', async () => {
  const warnings = []
  const state = { accountId: 'default', cfg: {}, log: { warn: (l) => warnings.push(l) } }
  const core = { history: async () => { throw new Error('rooms.info: 500') }, status: async () => ({ userId: BOT }) }
  const trigger = msg('alice', '@mybot hi', { roomId: 'GENERAL', roomName: 'general' })
  assert.deepEqual(await fetchContext(core, state, trigger, { kind: 'channel' }), {})
  assert.match(warnings[0], /could not read the recent messages of #general.*rooms\.info: 500/)
  let asked = false
  const off = { ...state, cfg: { messages: { groupChat: { historyLimit: 0 } } } }
  assert.deepEqual(await fetchContext({ history: async () => { asked = true; return [] } }, off, trigger, { kind: 'channel' }), {})
  assert.equal(asked, false)
})

test('in a thread the root is the starter, kept however long ago the bot answered; a DM outside a thread asks nothing', async () => {
  const root = msg('alice', 'the deploy is red since  noon', { roomId: 'GENERAL' })
  const botReply = msg('bot', 'looking', { threadId: root.messageId, sender: { id: BOT, username: 'mybot' } })
  const later = msg('alice', 'still red', { threadId: root.messageId })
  const trigger = msg('alice', '@mybot any news?', { threadId: root.messageId, roomId: 'GENERAL', roomName: 'general' })
  const asked = []
  const core = { history: async (a) => { asked.push(a); return [root, botReply, later, trigger] }, status: async () => ({ userId: BOT }) }
  const state = { accountId: 'default', cfg: {} }
  const got = await fetchContext(core, state, trigger, { kind: 'channel', roomLabel: '#general' })
  assert.equal(asked[0].threadId, root.messageId)
  assert.deepEqual(got.starter, { sender: 'Alice', body: 'the deploy is red since  noon', label: 'Rocket.Chat thread in #general: the deploy is red since noon' })
  assert.deepEqual(bodies(got.history), ['still red'])
  // The access rules left the root out: no starter, the replies as before.
  const noRoot = { ...core, history: async () => [botReply, later, trigger] }
  assert.equal((await fetchContext(noRoot, state, trigger, { kind: 'channel' })).starter, undefined)
  // A DM: only its threads have context to fetch.
  asked.length = 0
  const dm = msg('alice', 'hi', { roomId: 'DM' })
  assert.deepEqual(await fetchContext(core, state, dm, { kind: 'direct' }), {})
  assert.equal(asked.length, 0)
  assert.ok((await fetchContext(core, state, { ...trigger, roomId: 'DM' }, { kind: 'direct' })).starter)
})
