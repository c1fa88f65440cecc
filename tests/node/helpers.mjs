// Shared helpers of the Node binding tests: the simulator process, the native module, and an
// event tracker that awaits a matching event with a timeout.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BINDING_DIR = join(ROOT, 'bindings', 'node')
const require = createRequire(import.meta.url)

/** The binding (index.js honours ROCKETCHAT_NODE_BINDING). */
export const binding = require(BINDING_DIR)

export const BOT = {
  userId: 'Bq7dYg4KxWnZcT3rA',
  username: 'mybot',
  pat: 'Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c',
  password: 's3cret',
}
export const ALICE_DM = 'Bq7dYg4KxWnZcT3rAk9ZfTqW2mHs8PxLcE'

function simBinary() {
  if (process.env.ROCKETCHAT_SIM_BIN) return process.env.ROCKETCHAT_SIM_BIN
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target')
  return join(target, 'debug', 'rocketchat-sim')
}

/** Start `rocketchat-sim --port 0`; resolves once it printed its URL. */
export async function startSimulator() {
  const child = spawn(simBinary(), ['--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${stderr}`)), 15000)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${stderr}`)))
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = /^ROCKETCHAT_SIM_URL=(.+)$/.exec(line.trim())
      m ? resolveUrl(m[1]) : reject(new Error(`unexpected first line: ${line}`))
    })
  })
  child.removeAllListeners('exit')
  return {
    url,
    async post(user, rid, msg, extra = {}) {
      const res = await fetch(`${url}/_sim/post`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, rid, msg, ...extra }),
      })
      if (!res.ok) throw new Error(`/_sim/post: ${res.status} ${await res.text()}`)
      return (await res.json()).message
    },
    async messages(query) {
      const res = await fetch(`${url}/_sim/messages?${new URLSearchParams(query)}`)
      if (!res.ok) throw new Error(`/_sim/messages: ${res.status}`)
      return (await res.json()).messages
    },
    stop() {
      child.kill()
    },
  }
}

/** The bot's config section for the simulator. */
export function botConfig(url, extra = {}) {
  return {
    baseUrl: url,
    authToken: BOT.pat,
    userId: BOT.userId,
    dmPolicy: 'open',
    allowFrom: ['*'],
    ...extra,
  }
}

/** Records every event of a core and awaits matching ones. */
export class EventTracker {
  constructor(core, { onBatch } = {}) {
    this.events = []
    this.batches = 0
    this.waiters = []
    this.subscription = core.onEvent((batch) => {
      this.batches += 1
      onBatch?.(batch)
      for (const json of batch) {
        const event = JSON.parse(json)
        this.events.push(event)
      }
      this.waiters = this.waiters.filter((w) => !w.check())
    })
  }

  /** Resolves with the first recorded event matching `pred` (now or later). */
  waitFor(pred, timeoutMs = 10000, what = 'event') {
    return this.waitForCount(pred, 1, timeoutMs, what).then((found) => found[0])
  }

  /** Resolves with the first `n` recorded events matching `pred`. */
  waitForCount(pred, n, timeoutMs = 10000, what = 'events') {
    return new Promise((resolveWait, reject) => {
      const waiter = {
        check: () => {
          const found = this.events.filter(pred)
          if (found.length < n) return false
          clearTimeout(waiter.timer)
          resolveWait(found.slice(0, n))
          return true
        },
      }
      if (waiter.check()) return
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        const types = this.events.map((e) => e.type).slice(-20)
        reject(new Error(`timed out waiting for ${n} ${what}; last types: ${types.join(',')}`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
