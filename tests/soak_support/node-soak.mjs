// The fault soak through the Node binding: `rocketchat-sim` in a child process, a
// RocketChatCore in this one. Humans post steadily (channel, private group, DM, thread) through
// the simulator's control API, the bot answers every message with sendText, and faults are
// armed through POST /_sim/faults. At the end every message must have reached the bot exactly
// once, in order per room, every reply must be stored once, and both processes' RSS is
// printed; this process's is judged as in examples/soak.rs (steady-state medians).
//
//   node tests/soak_support/node-soak.mjs --minutes 1 [--seed 1] [--verbose]
//
// Needs the binding (`bash bindings/node/build.sh`) and the simulator
// (`cargo build -p rocketchat-sim`; ROCKETCHAT_SIM_BIN overrides where it is).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ROOT, binding } from '../node/helpers.mjs'

const BOT = 'mybot'
const BOT_ID = 'Bq7dYg4KxWnZcT3rA'
const ROOMS = {
  GENERAL: 'GENERAL',
  OPS: 'pX7aQmTz4cK9rWn2H',
  DM: 'Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE',
}
const REST_ROUTES = [
  '/api/v1/chat.sendMessage',
  '/api/v1/rooms.get',
  '/api/v1/channels.history',
  '/api/v1/groups.history',
  '/api/v1/im.history',
]
const MIB = 1 << 20

function parseArgs() {
  const opts = { minutes: 1, seed: 1, verbose: false }
  const args = process.argv.slice(2)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    const value = () => {
      if (i + 1 >= args.length) throw new Error(`${a} needs a value`)
      return Number(args[++i])
    }
    if (a === '--minutes') opts.minutes = value()
    else if (a === '--seed') opts.seed = value()
    else if (a === '--verbose' || a === '-v') opts.verbose = true
    else if (a === '-h' || a === '--help') {
      console.log('usage: node tests/soak_support/node-soak.mjs [--minutes N] [--seed S] [--verbose]')
      process.exit(0)
    } else throw new Error(`unknown argument ${JSON.stringify(a)}`)
  }
  if (!(opts.minutes > 0 && opts.minutes <= 1440)) throw new Error('--minutes must be in (0, 1440]')
  if (!Number.isInteger(opts.seed)) throw new Error('--seed must be a whole number')
  return opts
}

/** mulberry32: a small seeded generator, so a seed replays the same faults. */
function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function simBinary() {
  if (process.env.ROCKETCHAT_SIM_BIN) return process.env.ROCKETCHAT_SIM_BIN
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target')
  const release = join(target, 'release', 'rocketchat-sim')
  return existsSync(release) ? release : join(target, 'debug', 'rocketchat-sim')
}

async function startSimulator() {
  const bin = simBinary()
  if (!existsSync(bin)) throw new Error(`no simulator at ${bin}: run \`cargo build -p rocketchat-sim\``)
  const child = spawn(bin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the simulator did not start within 15 s')), 15000)
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)))
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = /^ROCKETCHAT_SIM_URL=(.+)$/.exec(line.trim())
      m ? resolve(m[1]) : reject(new Error(`the simulator printed ${JSON.stringify(line)}, not its URL`))
    })
  })
  child.removeAllListeners('exit')
  return { child, url }
}

/** RSS of a process from /proc/<pid>/status, in bytes (null when unreadable). */
function rssOf(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** The steady-state check of tests/soak_support/memory.rs: same warm-up, halves, tolerance. */
export function memoryFigures(samples) {
  const median = (s) => (s.length ? [...s].sort((x, y) => x - y)[Math.floor(s.length / 2)] : 0)
  const warmup = Math.floor(samples.length / 5)
  const kept = samples.slice(warmup)
  const half = Math.floor(kept.length / 2)
  const first = median(kept.slice(0, half))
  const second = median(kept.slice(half))
  const allowed = first + Math.max(Math.floor(first / 10), 4 * MIB)
  return {
    samples: samples.length,
    first,
    second,
    allowed,
    max: Math.max(0, ...samples),
    bounded: samples.length < 10 || second <= allowed,
  }
}

async function main() {
  const opts = parseArgs()
  const started = Date.now()
  const { child, url } = await startSimulator()
  const control = async (path, body, method = 'POST') => {
    // Control calls meet the faults too (refused connections, a server restart): retry.
    let last
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        const res = await fetch(`${url}/_sim/${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
        })
        if (res.ok) return await res.json()
        last = new Error(`/_sim/${path}: ${res.status} ${await res.text()}`)
        if (res.status < 500) break
      } catch (e) {
        last = e
      }
      await sleep(100)
    }
    throw last
  }

  const core = new binding.RocketChatCore({ workerThreads: 2 })
  const delivered = new Map()
  const order = new Map()
  const counts = { disconnects: 0, authFailed: 0, overflows: 0, errors: {} }
  let repliesPending = 0
  let repliesFailed = 0
  let replyRetries = 0
  let authenticated
  const loggedIn = new Promise((r) => (authenticated = r))
  let inFlight = 0
  const waiting = []
  const reply = async (m) => {
    while (inFlight >= 4) await new Promise((r) => waiting.push(r))
    inFlight++
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await core.sendText({
            accountId: 'default',
            target: `room:${m.roomId}`,
            text: `soak-ack:${m.messageId}`,
            threadId: m.threadId,
          })
          return
        } catch {
          replyRetries++
          await sleep(200 * Math.min(attempt + 1, 10))
        }
      }
      repliesFailed++
    } finally {
      inFlight--
      repliesPending--
      waiting.shift()?.()
    }
  }
  core.onEvent((batch) => {
    for (const json of batch) {
      const e = JSON.parse(json)
      if (e.type === 'authenticated') authenticated()
      else if (e.type === 'disconnected') counts.disconnects++
      else if (e.type === 'authFailed') counts.authFailed++
      else if (e.type === 'overflow') counts.overflows++
      else if (e.type === 'error') counts.errors[e.code ?? 'none'] = (counts.errors[e.code ?? 'none'] ?? 0) + 1
      else if (e.type === 'message') {
        const m = e.message
        const n = (delivered.get(m.messageId) ?? 0) + 1
        delivered.set(m.messageId, n)
        if (n > 1) continue // a duplicate: never answer twice
        if (!order.has(m.roomId)) order.set(m.roomId, [])
        order.get(m.roomId).push(m.messageId)
        repliesPending++
        reply(m)
      }
    }
  })
  await core.applyConfig({
    config: {
      baseUrl: url,
      username: BOT,
      password: 's3cret',
      dmPolicy: 'open',
      allowFrom: ['*'],
      groupPolicy: 'open',
      chatmode: 'onmessage',
    },
  })
  await Promise.race([
    loggedIn,
    sleep(10000).then(() => {
      throw new Error('the bot did not log in within 10 s')
    }),
  ])

  const rss = { node: [], sim: [] }
  const sampler = setInterval(() => {
    rss.node.push(process.memoryUsage().rss)
    const s = rssOf(child.pid)
    if (s !== null) rss.sim.push(s)
  }, 1000)

  // Humans.
  const until = Date.now() + opts.minutes * 60000
  const posted = []
  const humans = (async () => {
    const post = async (user, rid, tmid, n) => {
      const body = { user, rid, msg: `soak message ${n}`, ...(tmid ? { tmid } : {}) }
      const { message } = await control('post', body)
      return { id: message._id, rid, thread: tmid }
    }
    const root = await post('alice', ROOMS.GENERAL, undefined, 0)
    posted.push(root)
    for (let n = 1; Date.now() < until; n++) {
      const p = [
        () => post('alice', ROOMS.GENERAL, undefined, n),
        () => post('alice', ROOMS.OPS, undefined, n),
        () => post('alice', ROOMS.DM, undefined, n),
        () => post('bob', ROOMS.GENERAL, root.id, n),
        () => post('bob', ROOMS.GENERAL, undefined, n),
      ][n % 5]
      posted.push(await p())
      await sleep(100)
    }
  })()

  // Faults. The core runs default timings here (its watchdog fires after 60 s), so a
  // half-open spell ends with the sockets dropped, as the watchdog would.
  const r = rng(opts.seed)
  const faults = {}
  const fault = (f) => control('faults', f)
  while (Date.now() < until) {
    await sleep(r.int(500, 3000))
    if (Date.now() >= until) break
    const roll = r.int(0, 99)
    let kind
    if (roll < 14) {
      kind = 'dropSockets'
      await fault({ kind })
    } else if (roll < 26) {
      kind = 'halfOpen'
      await fault({ kind, on: true })
      await sleep(r.int(1200, 2500))
      await fault({ kind, on: false })
      await fault({ kind: 'dropSockets' })
    } else if (roll < 36) {
      kind = 'refuseConnections'
      await fault({ kind, seconds: r.int(300, 1500) / 1000 })
      await fault({ kind: 'dropSockets' })
    } else if (roll < 40) {
      kind = 'revokeTokens'
      await fault({ kind, user: BOT })
    } else if (roll < 44) {
      // The session the bot's password login is using expires: it logs in again.
      kind = 'expireSession'
      await fault({ kind, user: BOT })
    } else if (roll < 56) {
      kind = 'http429'
      await fault({ kind: 'httpStatus', route: REST_ROUTES[0], status: 429, count: r.int(1, 3) })
    } else if (roll < 68) {
      kind = 'http5xx'
      const route = REST_ROUTES[r.int(0, REST_ROUTES.length - 1)]
      await fault({ kind: 'httpStatus', route, status: [500, 502, 503][r.int(0, 2)], count: r.int(1, 3) })
      // History routes are only called by a catch-up: make one happen.
      if (route !== REST_ROUTES[0]) await fault({ kind: 'dropSockets' })
    } else if (roll < 80) {
      kind = 'delay'
      const route = REST_ROUTES[r.int(0, REST_ROUTES.length - 1)]
      await fault({ kind, route, ms: r.int(200, 1500), count: r.int(1, 3) })
      if (route !== REST_ROUTES[0]) await fault({ kind: 'dropSockets' })
    } else {
      kind = 'malformedFrame'
      const garbage = ['{not json', '[]', '{"msg":"result","id":"no-such-call","result":1}', '\u0000\uffff']
      await fault({ kind, text: garbage[r.int(0, garbage.length - 1)] })
    }
    faults[kind] = (faults[kind] ?? 0) + 1
    if (opts.verbose) console.log(`fault ${kind}`)
  }
  await control('reset-faults')
  await humans

  // Drain (bounded), then a quiet spell for late duplicates.
  const drainUntil = Date.now() + 60000
  while (Date.now() < drainUntil) {
    if (repliesPending === 0 && posted.every((p) => delivered.has(p.id))) break
    await sleep(100)
  }
  await sleep(3000)
  clearInterval(sampler)

  const status = await core.status({ accountId: 'default' })
  const { messages: mine } = await control(`messages?user=${BOT}`, undefined, 'GET')
  const replies = new Map()
  for (const m of mine) replies.set(m.msg, (replies.get(m.msg) ?? 0) + 1)
  const simRss = rssOf(child.pid)
  await core.close()
  child.kill()

  const lost = posted.filter((p) => !delivered.has(p.id)).map((p) => p.id)
  const dup = posted.filter((p) => (delivered.get(p.id) ?? 0) > 1).map((p) => p.id)
  const rank = new Map(posted.map((p, i) => [p.id, i]))
  const orderBroken = []
  for (const [rid, ids] of order) {
    const ranks = ids.map((id) => rank.get(id)).filter((x) => x !== undefined)
    if (ranks.some((x, i) => i > 0 && ranks[i - 1] > x)) orderBroken.push(rid)
  }
  const repliesMissing = posted.filter((p) => !replies.has(`soak-ack:${p.id}`)).length
  const repliesDup = posted.filter((p) => (replies.get(`soak-ack:${p.id}`) ?? 0) > 1).length
  const mem = memoryFigures(rss.node)
  const simMem = memoryFigures(rss.sim)
  const mib = (b) => `${(b / MIB).toFixed(1)} MiB`
  const total = Object.values(faults).reduce((a, b) => a + b, 0)

  console.log(`node soak seed ${opts.seed} ran ${((Date.now() - started) / 1000).toFixed(1)} s`)
  console.log(`  human messages posted    ${posted.length}`)
  console.log(`  delivered exactly once   ${posted.length - lost.length - dup.length}`)
  console.log(`  lost / duplicates        ${lost.length} / ${dup.length}`)
  console.log(`  per-room order broken    ${orderBroken.length}`)
  console.log(`  replies missing / dup    ${repliesMissing} / ${repliesDup} (retried ${replyRetries}, gave up ${repliesFailed})`)
  console.log(`  faults injected          ${total} ${JSON.stringify(faults)}`)
  console.log(`  reconnects (status)      ${status?.reconnects} (caught up ${status?.caughtUp}; ${counts.disconnects} disconnected, ${counts.authFailed} authFailed events)`)
  console.log(`  error events             ${JSON.stringify(counts.errors)}; overflows ${counts.overflows}`)
  console.log(`  RSS, node process (core) median ${mib(mem.first)} then ${mib(mem.second)} (allowed ${mib(mem.allowed)}), max ${mib(mem.max)}, ${mem.samples} samples`)
  console.log(`  RSS, simulator process   median ${mib(simMem.first)} then ${mib(simMem.second)}, max ${mib(simMem.max)}, at the end ${simRss === null ? '?' : mib(simRss)} (not judged: it keeps every message)`)
  console.log(`  final state              ${status?.state}`)

  const failures = []
  if (lost.length) failures.push(`${lost.length} messages lost: ${lost.slice(0, 10).join(', ')}`)
  if (dup.length) failures.push(`${dup.length} messages delivered more than once: ${dup.slice(0, 10).join(', ')}`)
  if (orderBroken.length) failures.push(`per-room order broken in ${orderBroken.join(', ')}`)
  if (repliesMissing) failures.push(`${repliesMissing} replies missing`)
  if (repliesDup) failures.push(`${repliesDup} replies posted more than once`)
  if (status?.state !== 'ready') failures.push(`final state ${status?.state}, not ready`)
  if (!mem.bounded)
    failures.push(`the core's memory kept growing: steady-state median ${mib(mem.first)}, then ${mib(mem.second)} (allowed ${mib(mem.allowed)})`)
  if (failures.length === 0) {
    console.log('node soak OK')
    return 0
  }
  for (const f of failures) console.error(`FAIL ${f}`)
  return 1
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`node soak: ${e.message}`)
    process.exit(2)
  },
)
