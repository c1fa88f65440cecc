'use strict'
// Loads the native module through the plugin's loader (npm/src/loader.cjs, the one copy: the
// published plugin must carry it, this package is private). Looks, in order, at:
//   1. ROCKETCHAT_NODE_BINDING: an explicit path to a .node file;
//   2. ./openclaw-rocketchat.<triple>.node next to this file (what build.sh writes);
//   3. the per-platform package @alexwoo-awso/openclaw-rocketchat-<triple> (release builds).
// The error names everything it tried, so a missing build or package is obvious.

const { loadNative, platformTriple } = require('../../npm/src/loader.cjs')

const native = loadNative({
  dirs: [__dirname],
  hint: 'Run bindings/node/build.sh, or set ROCKETCHAT_NODE_BINDING to a .node file.',
})

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
