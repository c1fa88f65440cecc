// The benchmark driver behind scripts/bench: one simulator, each client in turn receiving the
// same generated flood, CPU and peak RSS read from /proc for every client alike, one table of
// medians and ratios. bench/README.md describes the clients' line protocol.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { startSimulator } from '../tests/e2e/simulator.mjs'
import { busyRun } from './busy.mjs'
import { spawnClient } from './client-process.mjs'
import { gatewayComplete, gatewayRun, printGateway } from './gateway.mjs'
import { scaleIncomplete, scaleRows } from './scale.mjs'
import { printStorm } from './storm.mjs'
import { printStream, streamOnly, streamRun } from './stream.mjs'
import { printBusy, printOutbound, printReconnect, printScale, printTable, median, percentile } from './table.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CLIENTS = join(ROOT, 'bench', 'clients')
const PEERS = join(ROOT, 'tests', 'conformance', 'node', 'node_modules')
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim())

// The default seed's bot (tests/simulator/src/default_seed.json) and the rooms it shares with
// alice, who sends the flood: a channel, a private group and a DM.
const BOT = {
  BENCH_BOT_ID: 'Bq7dYg4KxWnZcT3rA',
  BENCH_BOT_USER: 'mybot',
  BENCH_BOT_PASSWORD: 's3cret',
  BENCH_BOT_TOKEN: '9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq',
  BENCH_BOT_PAT: 'Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c',
}
const ROOMS = ['GENERAL', 'pX7aQmTz4cK9rWn2H', 'Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE']

// The rows `--only` runs by themselves.
const ALONE = ['stream', 'gateway', 'scale', 'busy', 'inbound']

function options(argv) {
  const o = { count: 100_000, reps: 3, latencyCount: 5000, latencyRate: 1000, budget: 120, smoke: false }
  Object.assign(o, { root: ROOT, scaleAccounts: [1, 10, 100, 1000], stormAccounts: [1000], stormPerAccount: 2, stormDownMs: 3000, stormSlackMs: 2000, scaleRooms: 1000, scaleCount: 20_000, outboundCount: 10_000, outage: 100, afterOutage: 300, busyRooms: 1000, busyCount: 100_000, streamBlocks: 200 })
  Object.assign(o, { gatewayRooms: 1000, gatewayRate: 1000, gatewayAsks: 30, gatewayEveryMs: 2000 })
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]]
    if (k === '--smoke') o.smoke = true
    else if (k === '--count') (o.count = Number(v)), i++
    else if (k === '--reps') (o.reps = Number(v)), i++
    else if (k === '--latency-count') (o.latencyCount = Number(v)), i++
    else if (k === '--budget') (o.budget = Number(v)), i++
    else if (k === '--busy-count') (o.busyCount = Number(v)), i++
    else if (['--sim', '--floor', '--python', '--only', '--clients'].includes(k)) (o[k.slice(2)] = v), i++
    else throw new Error(`unknown argument ${k}`)
  }
  if (o.only !== undefined && !ALONE.includes(o.only)) throw new Error(`--only: ${o.only} is not a row that runs alone (${ALONE.join(', ')})`)
  if (o.smoke) {
    Object.assign(o, { count: 300, reps: 1, latencyCount: 100, budget: 30 })
    Object.assign(o, { scaleAccounts: [1, 10], stormAccounts: [20], stormDownMs: 1000, scaleRooms: 100, scaleCount: 200, outboundCount: 100, outage: 10, afterOutage: 200 })
    Object.assign(o, { busyRooms: 100, busyCount: 1000, streamBlocks: 30 })
    Object.assign(o, { gatewayRooms: 100, gatewayAsks: 3 })
  }
  return o
}

const version = (pkg) => createRequire(join(PEERS, 'noop.js'))(`${pkg}/package.json`).version
const pyVersion = (name) =>
  readFileSync(join(ROOT, 'tests', 'conformance', 'python', 'requirements.txt'), 'utf8')
    .match(new RegExp(`^${name}==(\\S+)`, 'm'))[1]

/** The clients of the inbound rows; `--clients floor,ddp` keeps those (and the core, always). */
function clients(o) {
  const keep = o.clients?.split(',')
  return allClients(o).filter((c) => !keep || c.key === 'core' || keep.includes(c.key))
}

function allClients(o) {
  const node = (file) => ({ cmd: process.execPath, pre: [join(CLIENTS, file)], url: 'http' })
  return [
    { name: 'raw parse floor (Rust, no gating)', key: 'floor', cmd: o.floor, pre: [], url: 'ws+token' },
    { name: 'this core via N-API', key: 'core', ...node('core.js') },
    { name: `@rocket.chat/sdk ${version('@rocket.chat/sdk')}`, key: 'sdk', ...node('sdk.js') },
    { name: `@rocket.chat/ddp-client ${version('@rocket.chat/ddp-client')}`, key: 'ddp', ...node('ddp-client.js') },
    {
      name: `rocketchat-async ${pyVersion('rocketchat-async')} (Python)`,
      key: 'py',
      cmd: o.python,
      pre: [join(CLIENTS, 'py_async_client.py')],
      url: 'ws',
    },
  ]
}

/** CPU seconds (user + system, every thread), peak and current RSS of a live process. */
function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const hwm = /VmHWM:\s+(\d+)/.exec(status)
  if (!hwm) throw new Error(`pid ${pid} has no VmHWM: ${status.slice(0, 200)}`)
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1])
  return { cpu, rssMb: Number(hwm[1]) / 1024, rssNowMb: rssKb / 1024 }
}

/** One client receiving one flood, for at most `budgetMs` after `go`. */
async function measure(sim, client, flood, mode, budgetMs, { env = {}, idleMs = 0 } = {}) {
  const target = {
    http: [sim.url],
    ws: [sim.wsUrl],
    'ws+token': [sim.wsUrl, BOT.BENCH_BOT_TOKEN],
  }[client.url]
  const args = [...client.pre, ...target, String(flood.count), mode]
  const clientEnv = { ...process.env, ...BOT, BENCH_ROOMS: ROOMS.join(','), ...env }
  const { child, next, fail, sleep } = spawnClient(client.cmd, args, clientEnv, client.key)
  try {
    const ready = await next(30_000)
    if (ready !== 'ready') throw fail(`expected ready, got ${ready}`)
    let idle
    if (idleMs) {
      await sleep(1000) // let the logins' garbage settle
      const start = procStats(child.pid)
      await sleep(idleMs)
      const end = procStats(child.pid)
      idle = { rssMb: end.rssNowMb, cpuPercent: ((end.cpu - start.cpu) / idleMs) * 100_000 }
    }
    const spec = { user: 'alice', rooms: ROOMS, ...flood }
    // A replay's frames are encoded while the client waits, before its clock and CPU count.
    if (flood.replay) await sim.control('flood/prepare', spec)
    const before = procStats(child.pid)
    child.stdin.write('go\n')
    // An outbound run sends instead of receiving: no flood.
    const flooded = flood.outbound ? Promise.resolve(flood) : flood.outage ? outage(sim, flood) : sim.flood(spec)
    // Progress lines until the result; out of budget, the last progress is the result.
    const deadline = Date.now() + budgetMs
    let result = { received: 0, duplicates: 0, outOfOrder: 0, seconds: budgetMs / 1000, latenciesUs: [] }
    for (;;) {
      const line = await next(deadline - Date.now())
      if (line === undefined) break
      const progress = /^progress (\d+) (\S+)$/.exec(line)
      if (!progress) {
        result = JSON.parse(line)
        break
      }
      Object.assign(result, { received: Number(progress[1]), seconds: Number(progress[2]) })
    }
    const after = procStats(child.pid)
    child.stdin.write('quit\n')
    child.kill('SIGKILL') // a flood still running for a client out of budget must not wait for it
    const sent = await flooded
    return { ...result, cpu: after.cpu - before.cpu, rssMb: after.rssMb, sent: sent.count, idle }
  } finally {
    child.kill('SIGKILL')
  }
}

/**
 * The reconnect run's traffic: drop every socket, post `outage` messages at once (they can only
 * arrive through the catch-up), then the rest one every 10 ms until the client is back.
 */
async function outage(sim, { count, outage }) {
  const post = (seq) =>
    sim.control('post', { user: 'alice', rid: ROOMS[seq % ROOMS.length], msg: `seq=${seq} t=${Date.now() * 1000} posted` })
  await sim.control('faults', { kind: 'dropSockets' })
  for (let seq = 0; seq < count; seq++) {
    await post(seq)
    if (seq >= outage) await new Promise((r) => setTimeout(r, 10))
  }
  return { count }
}

/** Reconnect: the core's time from a dropped socket to the first live message, and its catch-up. */
async function reconnectRun(o) {
  const sim = await startSimulator({ bin: o.sim })
  try {
    const core = clients(o).find((c) => c.key === 'core')
    const runs = []
    for (let rep = 0; rep < o.reps; rep++) {
      const flood = { count: o.outage + o.afterOutage, outage: o.outage }
      runs.push(await measure(sim, core, flood, 'reconnect', o.budget * 1000))
    }
    return runs
  } finally {
    await sim.stop()
  }
}

/** Outbound: the core posts one reply split into `outboundCount` chunks; the simulator's copy is checked. */
async function outboundRun(o) {
  const sim = await startSimulator({ bin: o.sim })
  try {
    const client = { key: 'outbound', cmd: process.execPath, pre: [join(CLIENTS, 'core-send.js')], url: 'http' }
    const r = await measure(sim, client, { count: o.outboundCount, outbound: true }, 'send', o.budget * 1000)
    const res = await fetch(`${sim.url}/_sim/messages?user=mybot&rid=GENERAL`)
    const posted = (await res.json()).messages.map((m) => m.msg)
    const inOrder = posted.every((m, i) => m.startsWith(`out=${i} `))
    return { ...r, posted: posted.length, complete: posted.length === o.outboundCount && inOrder && r.received === o.outboundCount, inOrder }
  } finally {
    await sim.stop()
  }
}

async function main() {
  const o = options(process.argv.slice(2))
  if (o.only === 'stream') return streamOnly(o, measure)
  if (o.only === 'scale') return scaleOnly(o)
  const list = clients(o)
  if (o.only === 'busy') return busyOnly(o, list)
  if (o.only === 'inbound') return printTable((await inboundRows(o, list)).rows, o)
  // First: the figure a user feels. `--only gateway` stops after it.
  const gateway = await gatewayRun(o)
  if (o.only === 'gateway') return finishGateway(gateway, o)
  const { rows } = await inboundRows(o, list)
  // Busy rooms: @rocket.chat/sdk is left out (it stalls on the plain flood already).
  const busy = await busyRun(o, measure, list.filter((c) => c.key !== 'sdk'))
  const reconnect = await reconnectRun(o)
  const outbound = await outboundRun(o)
  const stream = await streamRun(o, measure)
  const scaled = await scaleRows(o, measure)
  const { scale } = scaled
  printGateway(gateway, o)
  printTable(rows, o)
  printBusy(busy, list, o)
  printScale(scale, o)
  printStorm(scaled.storm)
  printReconnect(reconnect, o)
  printOutbound(outbound, o)
  printStream(stream, o)
  if (o.smoke) {
    const bad = rows.filter((r) => !r.complete || r.duplicates !== 0 || !(r.rate > 0) || r.p50 === undefined)
    if (!outbound.complete) bad.push({ key: 'outbound' })
    bad.push(...stream.filter((r) => !r.ok).map((r) => ({ key: `stream ${r.key}` })))
    if (!gatewayComplete(gateway)) bad.push({ key: 'gateway' })
    for (const [key, runs] of Object.entries(busy)) {
      // Every message for the bot exactly once, none of the others; the core's JS sees one
      // message event per message for the bot.
      const coreEvents = (r) => key !== 'core' || r.events.byType.message === r.expected
      if (runs.some((r) => r.received !== r.expected || r.duplicates !== 0 || (r.unexpected ?? 0) !== 0 || !coreEvents(r))) bad.push({ key: `busy ${key}` })
    }
    if (reconnect.some((r) => r.received !== r.sent || r.catchUp < o.outage || r.firstLiveMs === undefined)) bad.push({ key: 'reconnect' })
    bad.push(...scaleIncomplete(scaled))
    if (bad.length) {
      console.error(`bench --smoke: incomplete rows: ${bad.map((r) => `${r.key} complete=${r.complete} dup=${r.duplicates} dropped=${JSON.stringify(r.dropped)}`).join('; ')}`)
      process.exit(1)
    }
    console.log(`bench --smoke: ok, ${rows.length} clients received every message exactly once`)
  }
}

/** The plain flood (throughput, then latency at a steady rate), each client in turn; one row each. */
async function inboundRows(o, list) {
  const sim = await startSimulator({ bin: o.sim })
  const throughput = {}
  const latency = {}
  const budgetMs = o.budget * 1000
  try {
    for (const c of list) {
      throughput[c.key] = []
      for (let rep = 0; rep < o.reps; rep++) {
        const r = await measure(sim, c, { count: o.count, seed: rep + 1, replay: true }, 'throughput', budgetMs)
        process.stderr.write(`  ${c.key} run ${rep + 1}: ${r.received} in ${r.seconds.toFixed(2)} s\n`)
        throughput[c.key].push(r)
        if (r.received < r.sent) break // out of budget: more runs would not finish either
      }
      // Latency in as many runs as throughput: its tail is what varies between runs.
      latency[c.key] = []
      for (let rep = 0; rep < o.reps; rep++) {
        const flood = { count: o.latencyCount, seed: 99 + rep, rate: o.latencyRate }
        const r = await measure(sim, c, flood, 'latency', budgetMs)
        latency[c.key].push(r)
        if (r.received < r.sent) break // out of budget: more runs would not finish either
      }
    }
  } finally {
    await sim.stop()
  }
  const rows = list.map((c) => {
    const runs = throughput[c.key]
    const lats = latency[c.key]
    const latOf = (q) => lats.map((r) => (r.latenciesUs.length ? percentile(r.latenciesUs, q) : undefined))
    return {
      ...c,
      rate: median(runs.map((r) => r.received / r.seconds)),
      cpuPer100k: median(runs.map((r) => (r.cpu / r.received) * 100_000)),
      rssMb: median(runs.map((r) => r.rssMb)),
      complete: runs.every((r) => r.received === r.sent) && lats.every((r) => r.received === r.sent),
      share: median(runs.map((r) => r.received / r.sent)),
      latencyShare: Math.min(...lats.map((r) => r.received / r.sent)),
      duplicates: Math.max(...runs.map((r) => r.duplicates), ...lats.map((r) => r.duplicates)),
      outOfOrder: Math.max(...runs.map((r) => r.outOfOrder), ...lats.map((r) => r.outOfOrder)),
      dropped: runs[0].dropped,
      p50: median(latOf(0.5)),
      p99Runs: latOf(0.99),
      p99: median(latOf(0.99)),
      max: Math.max(...lats.map((r) => r.latenciesUs.at(-1) ?? NaN)),
    }
  })
  return { rows }
}

/** `--only busy`: the busy-room rows alone. */
async function busyOnly(o, list) {
  const busy = await busyRun(o, measure, list.filter((c) => c.key !== 'sdk'))
  printBusy(busy, list, o)
}

function finishGateway(gateway, o) {
  printGateway(gateway, o)
  if (o.smoke && !gatewayComplete(gateway)) {
    console.error(`bench --smoke: gateway row incomplete: ${JSON.stringify({ warm: gateway.warm, idle: gateway.idle.counts, busy: gateway.busy.counts })}`)
    process.exit(1)
  }
  if (o.smoke) console.log('bench --smoke: ok, the gateway answered every question exactly once')
}

/** `--only scale`: the scale and storm rows alone. */
async function scaleOnly(o) {
  const scaled = await scaleRows(o, measure)
  printScale(scaled.scale, o)
  printStorm(scaled.storm)
  const bad = scaleIncomplete(scaled)
  if (o.smoke && bad.length) {
    console.error(`bench --smoke: incomplete rows: ${bad.map((r) => `${r.key} dup=${r.duplicates}`).join('; ')}`)
    process.exit(1)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
