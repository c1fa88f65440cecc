// The host API contract (tests/contract/cases.json): every case runs through the Node binding
// and through the C library (tests/c/rpc.c, a line driver over rcc_call) against one
// simulator. Both transports must give the expected error code (the same number in C as the
// name in Node), the same error message, and a result of the same shape.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'

import { ALICE_DM, BOT, ROOT, binding, botConfig, startSimulator } from './helpers.mjs'

const { RocketChatCore } = binding
const { cases } = JSON.parse(readFileSync(join(ROOT, 'tests', 'contract', 'cases.json'), 'utf8'))
const CODES = RocketChatCore.errorCodes() // name -> number
const NAMES = Object.fromEntries(Object.entries(CODES).map(([name, n]) => [n, name]))
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target')

/**
 * Build tests/c/rpc.c against the debug C library (tests/node/run.sh builds it). A cross run
 * (scripts/cross) names its compiler and library dir: ROCKETCHAT_C_CC, ROCKETCHAT_C_LIB_DIR.
 */
function buildDriver() {
  const lib = process.env.ROCKETCHAT_C_LIB_DIR ?? join(TARGET, 'debug')
  const out = process.env.ROCKETCHAT_C_LIB_DIR ? join(lib, 'contract') : join(TARGET, 'contract')
  mkdirSync(out, { recursive: true })
  const exe = join(out, 'rpc')
  execFileSync(process.env.ROCKETCHAT_C_CC ?? 'cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', join(ROOT, 'include'),
    join(ROOT, 'tests', 'c', 'rpc.c'), '-L', lib, '-lopenclaw_rocketchat', `-Wl,-rpath,${lib}`, '-o', exe])
  return exe
}

/** The C transport: one rpc driver process, one request at a time. */
async function startC(exe) {
  const child = spawn(exe, [], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const queue = []
  let waiting
  lines.on('line', (line) => (waiting ? (waiting(line), (waiting = undefined)) : queue.push(line)))
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiting = r)))
  assert.equal(await next(), 'ready')
  return {
    async call(verb, args) {
      child.stdin.write(args === null ? `${verb}\n` : `${verb} ${JSON.stringify(args)}\n`)
      const line = await next()
      const space = line.indexOf(' ')
      const status = Number(line.slice(0, space))
      const body = JSON.parse(line.slice(space + 1))
      return status === 0
        ? { code: 'OK', result: body }
        : { code: NAMES[status] ?? `status ${status}`, number: status, message: body.message, details: body.details }
    },
    stop() {
      child.stdin.end()
    },
  }
}

/** The Node transport: one core, each verb through its own method. */
function startNode() {
  const core = new RocketChatCore({ logLevel: 'off' })
  return {
    async call(verb, args) {
      try {
        const method = core[verb] ?? ((a) => core.call(verb, a))
        return { code: 'OK', result: await method.call(core, args ?? undefined) }
      } catch (e) {
        const { code, message, ...details } = e
        delete details.stack
        return { code, number: CODES[code], message, details }
      }
    },
    stop() {
      if (!core.closed) return core.close()
    },
  }
}

/** `{{name.path}}` placeholders, from the setup values and this transport's earlier results. */
function fill(value, vars) {
  if (typeof value === 'string') {
    const whole = /^\{\{([^}]+)\}\}$/.exec(value)
    if (whole) return lookup(whole[1], vars)
    return value.replace(/\{\{([^}]+)\}\}/g, (_, path) => String(lookup(path, vars)))
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]))
  return value
}

function lookup(path, vars) {
  const [head, ...rest] = path.split('.')
  let v = vars[head]
  assert.ok(v !== undefined, `placeholder {{${path}}}: no value named ${head}`)
  for (const key of rest) v = v?.[key]
  assert.ok(v !== undefined, `placeholder {{${path}}} is undefined`)
  return v
}

const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

/** What the two transports must agree on: the code, an error's message, a result's shape. */
function shape(outcome) {
  // A wait in milliseconds is the only part of a message that may differ between two calls.
  if (outcome.code !== 'OK') return { code: outcome.code, number: outcome.number, message: outcome.message?.replace(/\d+ ms/g, 'N ms') }
  const r = outcome.result
  const keys = (o) => (o && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o).sort() : undefined)
  return { code: 'OK', type: typeOf(r), keys: keys(r), length: Array.isArray(r) ? r.length : undefined, item: Array.isArray(r) ? keys(r[0]) : undefined }
}

function check(name, transport, outcome, expect, vars) {
  const where = `${name} (${transport})`
  assert.equal(outcome.code, expect.code, `${where}: code; got ${JSON.stringify(outcome)}`)
  if (expect.code !== 'OK') {
    assert.equal(outcome.number, CODES[expect.code], `${where}: the code's number`)
    if (expect.message) assert.ok(outcome.message?.includes(expect.message), `${where}: message ${JSON.stringify(outcome.message)} includes ${JSON.stringify(expect.message)}`)
    for (const key of expect.details ?? []) assert.ok(key in (outcome.details ?? {}), `${where}: details.${key} in ${JSON.stringify(outcome.details)}`)
    return
  }
  const r = outcome.result
  if (expect.type) assert.equal(typeOf(r), expect.type, `${where}: result type of ${JSON.stringify(r)}`)
  for (const key of expect.keys ?? []) assert.ok(key in r, `${where}: result.${key} in ${JSON.stringify(r)}`)
  if ('length' in expect) assert.equal(r.length, expect.length, `${where}: result length of ${JSON.stringify(r)}`)
  for (const key of expect.item ?? []) assert.ok(r.length > 0 && key in r[0], `${where}: result[0].${key} in ${JSON.stringify(r[0])}`)
  if ('equals' in expect) assert.deepEqual(r, fill(expect.equals, vars), `${where}: result`)
  if (expect.includesText) assert.ok(r.some((m) => m.text === expect.includesText), `${where}: a message with text ${JSON.stringify(expect.includesText)} in ${JSON.stringify(r.map((m) => m.text))}`)
}

let sim
let transports

before(async () => {
  sim = await startSimulator()
  transports = { node: startNode(), c: await startC(buildDriver()) }
})

after(async () => {
  for (const t of Object.values(transports ?? {})) await t.stop()
  sim?.stop()
})

async function armFault(fault) {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  })
  assert.ok(res.ok, `arming ${JSON.stringify(fault)}: ${res.status}`)
}

/** Call until `waitFor` holds (the account connects in the background), within 30 s. */
async function callUntil(t, verb, args, waitFor) {
  const deadline = Date.now() + 30000
  for (;;) {
    const outcome = await t.call(verb, args)
    const value = outcome.code === 'OK' ? waitFor.path.split('.').reduce((v, k) => v?.[k], outcome.result) : undefined
    if (value === waitFor.equals || Date.now() > deadline) return outcome
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('every verb of the host API has a contract case', () => {
  const covered = new Set(cases.map((c) => c.verb))
  for (const verb of RocketChatCore.verbs()) assert.ok(covered.has(verb), `tests/contract/cases.json has no case for ${verb}`)
})

test('each case gives the same code, message and result shape through Node and C', async () => {
  const alicePost = await sim.post('alice', ALICE_DM, 'contract: alice writes')
  const setup = {
    aliceDm: ALICE_DM,
    alicePost,
    botConfig: botConfig(sim.url, { mediaMaxMb: 1 }),
    badTokenConfig: { baseUrl: sim.url, authToken: 'not-the-bot-token-0000', userId: BOT.userId },
    passwordConfig: { baseUrl: sim.url, username: BOT.username, password: BOT.password },
    wrongPasswordConfig: { baseUrl: sim.url, username: BOT.username, password: 'not-the-password' },
    twoMegabytes: Buffer.alloc(2 * 1024 * 1024, 7).toString('base64'),
  }
  const results = { node: { ...setup }, c: { ...setup } }
  for (const c of cases) {
    const outcomes = {}
    for (const [name, t] of Object.entries(transports)) {
      if (c.fault) await armFault(c.fault)
      const args = c.args === null ? null : fill(c.args, results[name])
      const outcome = c.waitFor ? await callUntil(t, c.verb, args, c.waitFor) : await t.call(c.verb, args)
      if (c.fault) await fetch(`${sim.url}/_sim/reset-faults`, { method: 'POST' })
      check(c.name, name, outcome, c.expect, results[name])
      if (outcome.code === 'OK') results[name][c.name] = outcome.result
      outcomes[name] = outcome
    }
    assert.deepEqual(shape(outcomes.c), shape(outcomes.node), `${c.name}: C and Node agree`)
  }
})
