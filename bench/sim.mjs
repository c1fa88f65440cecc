// The simulator process for a benchmark run, and its flood route.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** Start `rocketchat-sim --port 0 [...args]`; resolves once it printed its URL. */
export async function startSimulator(bin, args = []) {
  const child = spawn(bin, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${stderr}`)), 15000)
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${stderr}`)))
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
  })
  child.removeAllListeners('exit')
  const url = /^ROCKETCHAT_SIM_URL=(.+)$/.exec(line.trim())?.[1]
  if (!url) throw new Error(`unexpected first line from the simulator: ${line}`)
  const control = async (route, body) => {
    const res = await fetch(`${url}/_sim/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`/_sim/${route}: ${res.status} ${await res.text()}`)
    return res.json()
  }
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/websocket`,
    /** POST /_sim/flood; resolves once the last message is published. */
    flood: (spec) => control('flood', spec),
    control,
    stop: () => child.kill(),
  }
}
