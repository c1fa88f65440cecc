// A benchmark client as a child process speaking the line protocol (bench/README.md): its
// stdout read line by line, with a time limit per line and its exit turned into an error.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** Spawn `cmd args`; `next(ms)` is its next line, `undefined` after `ms`, or throws once it exited. */
export function spawnClient(cmd, args, env, key) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env })
  child.stdin.on('error', () => {}) // a client that already exited
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const exited = new Promise((r) => child.once('exit', r))
  const fail = (what) => new Error(`${key}: ${what}\n${stderr}`)
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms).unref())
  const next = async (ms) => {
    const died = exited.then((code) => Promise.reject(fail(`exited with ${code}`)))
    const { value } = await Promise.race([lines.next(), sleep(ms).then(() => ({})), died])
    return value
  }
  return { child, next, fail, sleep }
}
