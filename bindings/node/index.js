'use strict'
// Loader of the native module. Looks, in order, at:
//   1. ROCKETCHAT_NODE_BINDING: an explicit path to a .node file;
//   2. ./openclaw-rocketchat.<platform>.node next to this file (what build.sh writes);
//   3. the per-platform npm package @openclaw-rocketchat/core-<platform> (release builds).
// The error names everything it tried, so a missing build or package is obvious.

const { existsSync } = require('node:fs')
const { join } = require('node:path')

const { platformTriple } = require('./platform')

function load() {
  const tried = []
  const override = process.env.ROCKETCHAT_NODE_BINDING
  if (override) {
    return require(override)
  }
  const triple = platformTriple()
  const local = join(__dirname, `openclaw-rocketchat.${triple}.node`)
  tried.push(local)
  if (existsSync(local)) return require(local)
  const pkg = `@openclaw-rocketchat/core-${triple}`
  tried.push(pkg)
  try {
    return require(pkg)
  } catch (e) {
    if (e?.code !== 'MODULE_NOT_FOUND') throw e
  }
  throw new Error(
    `openclaw-rocketchat: no native module for ${triple}. Tried: ${tried.join(', ')}. ` +
      'Run bindings/node/build.sh, install the platform package, or set ROCKETCHAT_NODE_BINDING.',
  )
}

const native = load()

/**
 * Parse a batch handed to an `onEvent` callback.
 * @param {string[]} batch
 * @returns {import('./index').RocketChatEvent[]}
 */
function parseEvents(batch) {
  return batch.map((s) => JSON.parse(s))
}

module.exports = {
  RocketChatCore: native.RocketChatCore,
  EventSubscription: native.EventSubscription,
  parseEvents,
  platformTriple,
}
