// The live message's progress line (npm/src/live.js): what the placeholder says while the
// agent works, with the watchdog on mocked timers.
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'

import { DEFAULT_STALL_MS, liveProgress, resolveStreaming } from '../../npm/src/live.js'

const cfg = (section) => ({ channels: { rocketchat: { baseUrl: 'https://chat.example.com', ...section } } })
const flush = () => new Promise((r) => setImmediate(r))

test('streaming.mode: off unless progress or partial; placeholder and stallMs with defaults and a floor', () => {
  assert.deepEqual(resolveStreaming(cfg({}), 'default'), { mode: 'off', placeholder: 'Working…', stallMs: DEFAULT_STALL_MS, live: false })
  assert.deepEqual(resolveStreaming(cfg({ streaming: { mode: 'block' } }), 'default').live, false)
  assert.equal(resolveStreaming(cfg({ streaming: { mode: 'sometimes' } }), 'default').mode, 'off')
  const c = cfg({ streaming: { mode: 'progress', placeholder: ' Thinking… ', stallMs: 10 }, accounts: { ops: { streaming: { mode: 'partial' } } } })
  assert.deepEqual(resolveStreaming(c, 'default'), { mode: 'progress', placeholder: 'Thinking…', stallMs: 5000, live: true })
  assert.equal(resolveStreaming(c, 'ops').mode, 'partial')
  assert.equal(resolveStreaming(c, 'ops').placeholder, 'Thinking…', 'the account inherits the top level')
})

test('tools and the watchdog show in the placeholder until the text starts; a failure says so', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const shown = []
  const p = liveProgress({ placeholder: 'Working…', stallMs: 60_000, show: async (text) => { shown.push(text) } })
  p.tool('read_file')
  await flush()
  assert.deepEqual(shown, ['Working… (read_file)'])
  t.mock.timers.tick(60_000)
  await flush()
  assert.equal(shown.at(-1), 'Working… still running after 1 min')
  t.mock.timers.tick(60_000)
  await flush()
  assert.equal(shown.at(-1), 'Working… still running after 2 min')
  p.textStarted()
  p.tool('web_search')
  t.mock.timers.tick(600_000)
  await flush()
  assert.equal(shown.length, 3, 'nothing after the text started')

  const failedShown = []
  const q = liveProgress({ placeholder: 'Working…', stallMs: 60_000, show: async (text) => { failedShown.push(text) } })
  q.failed()
  t.mock.timers.tick(600_000)
  await flush()
  assert.deepEqual(failedShown, ['Sorry, this did not work. Please try again.'])
})

test('a status the server refuses is only logged', async () => {
  const logged = []
  const p = liveProgress({ placeholder: 'Working…', stallMs: 60_000, show: async () => { throw new Error('403') }, log: { debug: (l) => logged.push(l) } })
  p.tool('x')
  p.stop()
  await flush()
  assert.match(logged[0], /live message status failed: 403/)
})
