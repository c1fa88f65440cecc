'use strict';
// The long reply of the outbound streaming run, the same for every mode: COUNT blocks of
// 80-200 characters of prose, each starting with its number (so order shows in the text), one
// every 10-20 ms; deterministic, so the driver can rebuild the whole reply to check the room.

const WORDS = ('the core posts what the model wrote so far while the rest is still coming in and the ' +
  'room shows each part in order with fewer calls to the server than one message for every block ' +
  'of text would need when a reply runs long').split(' ');

// The plugin joins OpenClaw's trimmed blocks with a blank line (breakPreference "paragraph").
const JOINER = '\n\n';
const PLACEHOLDER = 'Working…';

/** A small seeded generator (mulberry32), so every run streams the same reply. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` blocks `{text, delayMs}`: the wait after each (none after the last). */
function replyBlocks(count, seed = 7) {
  const rnd = random(seed);
  const blocks = [];
  for (let i = 0; i < count; i++) {
    // Words while they fit `size` (with the full stop): the block ends within 8 characters of it.
    const size = 88 + Math.floor(rnd() * 113);
    let text = `Part ${i}:`;
    for (;;) {
      const word = WORDS[Math.floor(rnd() * WORDS.length)];
      if (text.length + word.length + 2 > size) break;
      text += ` ${word}`;
    }
    blocks.push({ text: `${text}.`, delayMs: i === count - 1 ? 0 : 10 + Math.floor(rnd() * 11) });
  }
  return blocks;
}

/** The whole reply as one text. */
const replyText = (count) => replyBlocks(count).map((b) => b.text).join(JOINER);

/** Texts compared up to whitespace: a message split falls on whitespace, which it drops. */
const normalize = (s) => s.replace(/\s+/g, ' ').trim();

module.exports = { JOINER, PLACEHOLDER, replyBlocks, replyText, normalize };
