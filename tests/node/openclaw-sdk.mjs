// Makes `openclaw/plugin-sdk/*` importable from npm/src in unit tests (see openclaw-resolve.mjs).
import { existsSync } from 'node:fs'
import { register } from 'node:module'
import path from 'node:path'

import { ROOT } from './helpers.mjs'

export const OPENCLAW_DIR = process.env.OPENCLAW_DIR ?? path.join(ROOT, '.cache/e2e/pkgs/node_modules/openclaw')
if (!existsSync(path.join(OPENCLAW_DIR, 'package.json'))) {
  throw new Error(`OpenClaw is not installed at ${OPENCLAW_DIR}: run tests/e2e/setup.sh (or set OPENCLAW_DIR)`)
}
process.env.OPENCLAW_DIR = OPENCLAW_DIR
register('./openclaw-resolve.mjs', import.meta.url)
