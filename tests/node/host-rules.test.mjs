// The host rules the plugin takes from OpenClaw's config (npm/src/host-rules.js), against the real
// plugin SDK and the native core: mention patterns, channels.defaults.groupPolicy, the command
// gate, and the security audit's warning about groupPolicy "open".
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { fileURLToPath } from 'node:url'

import { sdkTestsIn } from './openclaw-sdk.mjs'
import { binding } from './helpers.mjs'

await sdkTestsIn(fileURLToPath(import.meta.url), 'host rules', sdkTests)

async function sdkTests() {
const { coreSection, commandAccess, messageText } = await import('../../npm/src/host-rules.js')
const { collectSecurityWarnings } = await import('../../npm/src/channel.js')
const { resolveAccount } = await import('../../npm/src/config.js')

const rc = { baseUrl: 'https://chat.example.com', authToken: 't', userId: 'u' }
const describe = (section) => binding.RocketChatCore.describeConfig(section, {})

test('OpenClaw mention patterns reach the core; ones it cannot use are reported, not fatal', () => {
  const cfg = {
    messages: { groupChat: { mentionPatterns: ['\\bclawbot\\b'] } },
    channels: { rocketchat: { ...rc, mentionPatterns: ['^hey bot'] } },
  }
  const section = coreSection(cfg, 'default')
  assert.deepEqual(section.mentionPatterns, ['^hey bot', '\\bclawbot\\b'])
  assert.equal(describe(section).length, 1, 'the core accepts the section')

  // A name in the agent's identity: OpenClaw derives a pattern with lookaround, plus the emoji.
  const warnings = []
  const named = { agents: { list: [{ id: 'main', identity: { name: 'Clawd', emoji: '🦞' } }] }, channels: { rocketchat: rc } }
  const s2 = coreSection(named, 'default', (w) => warnings.push(w))
  assert.deepEqual(s2.mentionPatterns, ['🦞'])
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /Clawd.*lookaround.*messages\.groupChat\.mentionPatterns/)
  describe(s2)

  // A named account gets them in its own layer, after its own.
  const multi = { ...cfg, channels: { rocketchat: { ...rc, accounts: { ops: { mentionPatterns: ['ops'] } } } } }
  const s3 = coreSection(multi, 'ops')
  assert.deepEqual(s3.accounts.ops.mentionPatterns, ['ops', '\\bclawbot\\b'])
  assert.equal(s3.mentionPatterns, undefined, 'the default account is not changed')
})

test('a pattern the core cannot use in channels.rocketchat.mentionPatterns is a config error naming it', () => {
  assert.throws(() => describe({ ...rc, mentionPatterns: ['(?=x)bot'] }), /mentionPatterns\[0\].*"\(\?=x\)bot".*lookaround/)
})

test('channels.defaults.groupPolicy is the default, the account wins', () => {
  const cfg = { channels: { defaults: { groupPolicy: 'open' }, rocketchat: { ...rc, accounts: { quiet: { groupPolicy: 'disabled' } } } } }
  const core = Object.fromEntries(describe(coreSection(cfg, 'default')).map((a) => [a.accountId, a.groupPolicy]))
  assert.deepEqual(core, { default: 'open', quiet: 'disabled' })
  assert.equal(resolveAccount(cfg, 'default').config.groupPolicy, 'open')
  assert.equal(resolveAccount(cfg, 'quiet').config.groupPolicy, 'disabled')
  const own = { channels: { defaults: { groupPolicy: 'open' }, rocketchat: { ...rc, groupPolicy: 'allowlist' } } }
  assert.equal(describe(coreSection(own, 'default'))[0].groupPolicy, 'allowlist')
})

test('the agent reads the trigger body, or the text when the core left the same body out', () => {
  const trigger = { reason: 'mention', body: 'what is the status?', wasMentioned: true, commandAuthorized: true }
  assert.equal(messageText({}, trigger, '@mybot what is the status?'), 'what is the status?')
  const { body, ...direct } = { ...trigger, reason: 'direct' }
  assert.equal(messageText({}, direct, 'hi there'), 'hi there')
})

test('commandPrefix: !reset is OpenClaw\'s /reset; a word it does not know is read as typed', () => {
  const trigger = { reason: 'direct', body: '/reset', typedAs: '!reset', controlCommand: true, commandAuthorized: true }
  assert.equal(messageText({}, trigger), '/reset')
  assert.equal(messageText({}, { ...trigger, body: '/important: build is red', typedAs: '!important: build is red' }), '!important: build is red')
  assert.equal(messageText({}, { ...trigger, body: '/reset', typedAs: undefined }), '/reset')
  // The core rewrites in its gate: the same account section makes the same trigger whatever the host.
  assert.throws(() => describe({ ...rc, commandPrefix: 'go' }), /commandPrefix.*"go" cannot stand for `\/`/)
  assert.equal(describe({ ...rc, commandPrefix: '.' }).length, 1)
})

test('text commands go through OpenClaw command gate', () => {
  const cfg = {}
  const t = (over) => ({ reason: 'mention', commandAuthorized: false, ...over })
  // An unauthorised sender's /reset in a group: blocked.
  let r = commandAccess({ cfg, kind: 'channel', text: '/reset', trigger: t({}), listsConfigured: true })
  assert.equal(r.drop, 'control command (unauthorized)')
  // An authorised one: run as a command.
  r = commandAccess({ cfg, kind: 'channel', text: '/reset', trigger: t({ commandAuthorized: true, reason: 'controlCommand' }), listsConfigured: true })
  assert.deepEqual(r, { drop: undefined, command: true, commandAuthorized: true })
  // A /word OpenClaw does not know, admitted only as a command: not a command, dropped.
  r = commandAccess({ cfg, kind: 'channel', text: '/frobnicate', trigger: t({ commandAuthorized: true, reason: 'controlCommand' }), listsConfigured: true })
  assert.equal(r.drop, 'not a control command (no mention)')
  // ... with a mention it is an ordinary message.
  r = commandAccess({ cfg, kind: 'channel', text: '/frobnicate', trigger: t({ commandAuthorized: true }), listsConfigured: true })
  assert.deepEqual(r, { drop: undefined, command: false, commandAuthorized: true })
  // commands.useAccessGroups false: anyone admitted may run commands.
  r = commandAccess({ cfg: { commands: { useAccessGroups: false } }, kind: 'channel', text: '/reset', trigger: t({}), listsConfigured: true })
  assert.deepEqual(r, { drop: undefined, command: true, commandAuthorized: true })
  // A DM: the sender's allowlist verdict.
  r = commandAccess({ cfg, kind: 'direct', text: '/reset', trigger: t({ commandAuthorized: true, reason: 'direct' }), listsConfigured: true })
  assert.equal(r.commandAuthorized, true)
})

test('security audit warns about groupPolicy "open", from the account or channels.defaults', () => {
  const warn = (cfg, id = 'default') => collectSecurityWarnings({ cfg, account: resolveAccount(cfg, id) })
  assert.deepEqual(warn({ channels: { rocketchat: { ...rc, groupPolicy: 'allowlist' } } }), [])
  const [w] = warn({ channels: { rocketchat: { ...rc, groupPolicy: 'open' } } })
  assert.match(w, /Rocket\.Chat channels: groupPolicy="open" allows any member to trigger \(mention-gated\).*channels\.rocketchat\.groupPolicy="allowlist" \+ channels\.rocketchat\.groupAllowFrom/)
  const [d] = warn({ channels: { defaults: { groupPolicy: 'open' }, rocketchat: { ...rc, accounts: { ops: {} } } } }, 'ops')
  assert.match(d, /channels\.rocketchat\.accounts\.ops\.groupPolicy/)
})
}
