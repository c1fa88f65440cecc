// The agent's message actions and the directory (npm/src/actions.js), against OpenClaw's real
// SDK, with a core that records the verbs called (the core's own checks have their own tests).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { sdkTestsIn } from './openclaw-sdk.mjs'

await sdkTestsIn(fileURLToPath(import.meta.url), 'message actions', sdkTests)

async function sdkTests() {
const { ACTIONS, createDirectory, createMessageActions } = await import('../../npm/src/actions.js')

const cfg = { channels: { rocketchat: { baseUrl: 'https://chat.example.com', authToken: 't', userId: 'u' } } }
const msg = { messageId: 'M1', roomId: 'R', sender: { id: 'a', username: 'alice', name: 'Alice' }, text: 'hi', ts: 1796000000000, files: [] }
function fake() {
  const calls = []
  const rec = (verb, result) => async (args) => { calls.push({ verb, ...args }); return typeof result === 'function' ? result(args) : result }
  const core = {
    react: rec('react', null),
    history: rec('history', [msg]),
    search: rec('search', [msg]),
    editMessage: rec('editMessage', (a) => ({ id: a.messageId, roomId: 'R', text: a.text })),
    deleteMessage: rec('deleteMessage', null),
    pin: rec('pin', null),
    unpin: rec('unpin', null),
    rooms: rec('rooms', [
      { roomId: 'GENERAL', name: 'general', type: 'c', label: '#general' },
      { roomId: 'P1', name: 'ops', type: 'p', label: '#ops' },
      { roomId: 'D1', name: 'alice', type: 'd', label: '@alice' },
    ]),
    roomInfo: rec('roomInfo', { roomId: 'GENERAL', name: 'general', type: 'c' }),
    userInfo: rec('userInfo', { userId: 'a', username: 'alice' }),
    status: async () => ({ userId: 'BOT', username: 'mybot' }),
  }
  const started = []
  const deps = { getCore: () => core, ensureAccount: async (_c, id) => { started.push(id) } }
  return { calls, started, actions: createMessageActions(deps), directory: createDirectory(deps) }
}
const run = (f, action, params, extra = {}) => f.actions.handleAction({ channel: 'rocketchat', action, cfg, params, ...extra })

test('the tool offers every action when an account is configured, none otherwise; send stays on outbound', () => {
  const { actions } = fake()
  assert.deepEqual(actions.describeMessageTool({ cfg }).actions, ['send', ...ACTIONS])
  assert.deepEqual(actions.describeMessageTool({ cfg: { channels: { rocketchat: {} } } }).actions, [])
  assert.equal(actions.supportsAction({ action: 'send' }), false)
  assert.equal(actions.supportsAction({ action: 'search' }), true)
})

test('each action is one core verb with the conversation as target', async () => {
  const f = fake()
  const to = 'channel:GENERAL'
  const r = await run(f, 'react', { to, messageId: 'M1', emoji: '👍' })
  assert.deepEqual(r.details, { ok: true, messageId: 'M1', emoji: '👍', removed: false })
  await run(f, 'react', { to, messageId: 'M1', emoji: '👍', remove: true })
  // Without a messageId, the message being answered.
  await run(f, 'react', { to, emoji: 'eyes' }, { toolContext: { currentMessageId: 'CUR' } })
  const read = await run(f, 'read', { to, limit: '500', threadId: 'T1' })
  assert.equal(read.details.messages[0].sender, 'alice')
  assert.equal(read.details.messages[0].timestampUtc, '2026-11-30T00:53:20.000Z')
  await run(f, 'search', { to, query: 'deploy', limit: 5 })
  await run(f, 'edit', { to, messageId: 'M2', message: 'fixed' })
  await run(f, 'delete', { to, messageId: 'M2' })
  await run(f, 'pin', { to, messageId: 'M1' })
  await run(f, 'unpin', { to, messageId: 'M1' })
  const list = await run(f, 'channel-list', {})
  assert.equal(list.details.rooms.length, 3)
  await run(f, 'channel-info', { channelId: 'GENERAL' })
  await run(f, 'member-info', { userId: '@alice' })
  assert.deepEqual(f.calls.map((c) => [c.verb, c.target ?? c.user ?? null]), [
    ['react', to], ['react', to], ['react', to], ['history', to], ['search', to], ['editMessage', to], ['deleteMessage', to],
    ['pin', to], ['unpin', to], ['rooms', null], ['roomInfo', 'GENERAL'], ['userInfo', '@alice'],
  ])
  assert.equal(f.calls[1].add, false)
  assert.equal(f.calls[2].messageId, 'CUR')
  assert.equal(f.calls[3].limit, 100, 'limits are capped')
  assert.equal(f.calls[3].threadId, 'T1')
  assert.equal(f.calls[4].query, 'deploy')
  assert.ok(f.started.every((id) => id === 'default'))
})

test('missing parameters are clear errors, not calls', async () => {
  const f = fake()
  await assert.rejects(run(f, 'react', { to: 'channel:G', messageId: 'M1' }), /react: emoji is required/)
  await assert.rejects(run(f, 'read', {}), /read: a target/)
  await assert.rejects(run(f, 'search', { to: 'channel:G' }), /search: query is required/)
  await assert.rejects(run(f, 'edit', { to: 'channel:G', messageId: 'M1' }), /edit: message \(the new text\) is required/)
  assert.equal(f.calls.length, 0)
})

test('the directory lists the bot\'s rooms and DM partners, filtered by the query, and itself', async () => {
  const f = fake()
  const groups = await f.directory.listGroups({ cfg, query: '#gen' })
  assert.deepEqual(groups, [{ kind: 'channel', id: 'channel:GENERAL', name: 'general', handle: '#general' }])
  assert.equal((await f.directory.listGroups({ cfg })).length, 2)
  assert.deepEqual(await f.directory.listPeers({ cfg, query: 'ali' }), [{ kind: 'user', id: '@alice', name: 'alice', handle: '@alice' }])
  assert.deepEqual(await f.directory.self({ cfg }), { kind: 'user', id: 'user:BOT', name: 'mybot', handle: '@mybot' })
})
}
