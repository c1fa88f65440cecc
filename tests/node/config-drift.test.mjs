// The plugin reads channels.rocketchat itself (npm/src/config.js: account listing and status
// must work before the native core loads). These golden cases keep that reader and the core's
// (RocketChatCore.describeConfig) from drifting: same accounts, same inheritance.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { listAccountIds, resolveAccount } from '../../npm/src/config.js'
import { ROOT, binding } from './helpers.mjs'

const { cases } = JSON.parse(readFileSync(join(ROOT, 'tests', 'contract', 'config-cases.json'), 'utf8'))
const trimSlash = (url) => url?.replace(/\/+$/, '')

for (const c of cases) {
  test(`config: ${c.name}`, () => {
    const env = c.env ?? {}
    const core = binding.RocketChatCore.describeConfig(c.section, env)
    const cfg = { channels: { rocketchat: c.section } }
    assert.deepEqual(listAccountIds(cfg, env).sort(), core.map((a) => a.accountId).sort(), 'account ids')
    for (const a of core) {
      const js = resolveAccount(cfg, a.accountId, env)
      const where = `account ${a.accountId}`
      assert.equal(js.enabled, a.enabled, `${where}: enabled`)
      assert.equal(js.name, a.name, `${where}: name`)
      assert.equal(trimSlash(js.baseUrl), trimSlash(a.baseUrl), `${where}: baseUrl`)
      assert.equal(js.authMode, a.authMode, `${where}: authMode`)
      assert.ok(js.configured, `${where}: configured`)
      // What OpenClaw's security adapter reads from the plugin: the inherited policy keys.
      assert.equal(js.config.dmPolicy ?? a.dmPolicy, a.dmPolicy, `${where}: dmPolicy`)
      assert.equal(js.config.groupPolicy ?? a.groupPolicy, a.groupPolicy, `${where}: groupPolicy`)
      assert.deepEqual(js.config.allowFrom ?? a.allowFrom, a.allowFrom, `${where}: allowFrom`)
      assert.deepEqual(js.config.groupAllowFrom ?? a.groupAllowFrom, a.groupAllowFrom, `${where}: groupAllowFrom`)
    }
  })
}
