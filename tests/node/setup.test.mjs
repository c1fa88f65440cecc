// Setup (npm/src/setup.js, npm/src/accounts.js) against OpenClaw's real SDK and the simulator:
// the interactive wizard answered by a scripted prompter, the flags path of `channels add`,
// and disabling/removing accounts. Every login check goes through the core's `probe` verb.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { fileURLToPath } from 'node:url'

import { sdkTestsIn } from './openclaw-sdk.mjs'
import { BOT, startSimulator } from './helpers.mjs'

await sdkTestsIn(fileURLToPath(import.meta.url), 'setup and accounts', sdkTests)

async function sdkTests() {

const stateDir = mkdtempSync(path.join(tmpdir(), 'rc-setup-'))
process.env.OPENCLAW_STATE_DIR = stateDir
const ENV = ['ROCKETCHAT_URL', 'ROCKETCHAT_AUTH_TOKEN', 'ROCKETCHAT_USER_ID', 'ROCKETCHAT_USERNAME', 'ROCKETCHAT_PASSWORD']
for (const k of ENV) delete process.env[k]

const { rocketchatSetup, rocketchatSetupWizard } = await import('../../npm/src/setup.js')
const { deleteAccount, setAccountEnabled } = await import('../../npm/src/accounts.js')
const { listAccountIds, resolveAccount } = await import('../../npm/src/config.js')
const { closeCore } = await import('../../npm/src/core.js')
const { WizardCancelledError } = await import('openclaw/plugin-sdk/setup')

let sim
before(async () => {
  sim = await startSimulator()
})
after(async () => {
  await closeCore()
  await sim?.stop?.()
  rmSync(stateDir, { recursive: true, force: true })
})

/**
 * A prompter answering the wizard's questions from a script of [pattern, answer] pairs, in
 * order; any other question fails the test. Notes and progress lines are recorded.
 */
function scripted(script) {
  const steps = [...script]
  const seen = []
  const answer = (kind, params) => {
    const step = steps.shift()
    seen.push(`${kind}: ${params.message}`)
    assert.ok(step, `unexpected ${kind} ${JSON.stringify(params.message)}; asked so far: ${seen.join(' | ')}`)
    assert.match(params.message, step[0], `asked ${JSON.stringify(params.message)} where the script expected ${step[0]}`)
    if (kind === 'text' && params.validate) assert.equal(params.validate(step[1]), undefined, `${params.message}: ${step[1]} refused`)
    return step[1]
  }
  const prompter = {
    notes: [],
    progressLines: [],
    intro: async () => {},
    outro: async () => {},
    note: async (message, title) => void prompter.notes.push(`${title ?? ''}: ${message}`),
    text: async (p) => answer('text', p),
    select: async (p) => {
      const v = answer('select', p)
      assert.ok(p.options.some((o) => o.value === v), `${v} is not an option of ${p.message}`)
      return v
    },
    multiselect: async (p) => answer('multiselect', p),
    confirm: async (p) => answer('confirm', p),
    progress: () => ({ update: () => {}, stop: (m) => m && prompter.progressLines.push(m) }),
    done: () => assert.deepEqual(steps, [], 'the wizard did not ask everything the script answers'),
  }
  return prompter
}

const configure = (prompter, cfg = {}, accountId) =>
  rocketchatSetupWizard.configure({ cfg, prompter, runtime: {}, accountOverrides: accountId ? { rocketchat: accountId } : {}, shouldPromptAccountIds: false, forceAllowFrom: false })

test('wizard: URL, personal access token and user id are checked with the server, then written', async () => {
  const p = scripted([
    [/server URL/, sim.url],
    [/How should the bot log in/, 'token'],
    [/Personal access token/, BOT.pat],
    [/user id/, BOT.userId],
  ])
  const { cfg, accountId } = await configure(p)
  p.done()
  assert.equal(accountId, 'default')
  assert.deepEqual(cfg.channels.rocketchat, { enabled: true, baseUrl: sim.url, authToken: BOT.pat, userId: BOT.userId })
  assert.ok(p.progressLines.some((l) => l.includes('as @mybot')), p.progressLines.join('\n'))
})

test('wizard: a refused token is named (never shown) and the questions come again', async () => {
  const bad = 'not-the-bot-token-0000'
  const p = scripted([
    [/server URL/, sim.url],
    [/How should the bot log in/, 'token'],
    [/Personal access token/, bad],
    [/user id/, BOT.userId],
    [/Try again/, true],
    [/server URL/, sim.url],
    [/How should the bot log in/, 'token'],
    [/Personal access token/, BOT.pat],
    [/user id/, BOT.userId],
  ])
  const { cfg } = await configure(p, {}, 'spare')
  p.done()
  const failed = p.notes.find((n) => n.includes('login check failed'))
  assert.match(failed, /refused the personal access token .*check authToken and userId/)
  assert.ok(!p.notes.join('\n').includes(bad), 'the token is not in the message')
  assert.deepEqual(cfg.channels.rocketchat.accounts.spare, { enabled: true, baseUrl: sim.url, authToken: BOT.pat, userId: BOT.userId })
})

test('wizard: username + password log in; a wrong URL is named; giving up writes nothing', async () => {
  const p = scripted([
    [/server URL/, sim.url],
    [/How should the bot log in/, 'password'],
    [/Bot username/, BOT.username],
    [/Password/, BOT.password],
  ])
  const { cfg } = await configure(p)
  p.done()
  assert.deepEqual(cfg.channels.rocketchat, { enabled: true, baseUrl: sim.url, username: BOT.username, password: BOT.password })

  const q = scripted([
    [/server URL/, 'http://127.0.0.1:9'],
    [/How should the bot log in/, 'password'],
    [/Bot username/, BOT.username],
    [/Password/, 'wrong-password'],
    [/Try again/, false],
  ])
  await assert.rejects(configure(q), WizardCancelledError)
  q.done()
  assert.match(q.notes.join('\n'), /cannot reach a server at http:\/\/127\.0\.0\.1:9.*check baseUrl/)
})

test('wizard: the ROCKETCHAT_* variables are offered for the default account and checked', async () => {
  Object.assign(process.env, { ROCKETCHAT_URL: sim.url, ROCKETCHAT_USERNAME: BOT.username, ROCKETCHAT_PASSWORD: BOT.password })
  try {
    const p = scripted([[/ROCKETCHAT_URL .*environment\. Use them/, true]])
    const { cfg } = await configure(p)
    p.done()
    assert.deepEqual(cfg.channels.rocketchat, { enabled: true }, 'nothing secret is copied into the config')
    assert.equal(resolveAccount(cfg, 'default').credentialSource, 'env')
    assert.ok(p.progressLines.some((l) => l.includes('as @mybot')))
  } finally {
    for (const k of ENV) delete process.env[k]
  }
})

test('channels add with flags: the probe runs before anything is written, its error is the message', async () => {
  const run = async (input, accountId = 'default', cfg = {}) => {
    const prepared = await rocketchatSetup.prepareAccountConfigInput({ cfg, accountId, input, runtime: {} })
    return rocketchatSetup.validateInput({ cfg, accountId, input: prepared })
  }
  assert.equal(await run({ url: sim.url, token: BOT.pat, userId: BOT.userId }), null)
  assert.equal(await run({ url: sim.url, username: BOT.username, password: BOT.password }, 'spare'), null)
  const wrong = await run({ url: sim.url, username: BOT.username, password: 'wrong-password' })
  assert.match(wrong, /^Rocket\.Chat login check failed: .*refused the login of mybot: check username and password/)
  assert.ok(!wrong.includes('wrong-password'))
  assert.match(await run({ url: sim.url }), /needs --token with --user-id/)
  // A named account's wrong password is not hidden by the token it would inherit from the top level.
  const withToken = { channels: { rocketchat: { baseUrl: sim.url, authToken: BOT.pat, userId: BOT.userId } } }
  assert.match(await run({ url: sim.url, username: BOT.username, password: 'wrong-password' }, 'spare', withToken), /check username and password/)
})

test('disable and remove: named accounts and the default one, the others untouched', () => {
  const base = { channels: { rocketchat: { baseUrl: sim.url, authToken: BOT.pat, userId: BOT.userId, accounts: { spare: { username: 'x', password: 'y' } } } } }
  const off = setAccountEnabled({ cfg: base, accountId: 'spare', enabled: false })
  assert.equal(resolveAccount(off, 'spare').enabled, false)
  assert.equal(resolveAccount(off, 'default').enabled, true)
  const defOff = setAccountEnabled({ cfg: base, accountId: 'default', enabled: false })
  assert.equal(resolveAccount(defOff, 'default').enabled, false)
  assert.equal(resolveAccount(defOff, 'spare').enabled, true, 'disabling the default account does not disable the ones inheriting from it')

  const gone = deleteAccount({ cfg: base, accountId: 'spare' })
  assert.deepEqual(listAccountIds(gone), ['default'])
  assert.equal(gone.channels.rocketchat.authToken, BOT.pat)
  const noDefault = deleteAccount({ cfg: base, accountId: 'default' })
  assert.deepEqual(listAccountIds(noDefault), ['spare'])
  assert.equal(resolveAccount(noDefault, 'spare').baseUrl, sim.url, 'the named account keeps the URL it inherited')
  const only = deleteAccount({ cfg: { channels: { rocketchat: { baseUrl: sim.url, authToken: 't', userId: 'u' } } }, accountId: 'default' })
  assert.equal(only.channels?.rocketchat, undefined)
})
}
