'use strict';
// @rocket.chat/sdk 0.2.9 (asteroid 0.6.1, DDP "pre2", plain-text password login,
// stream-room-messages ["__my_messages__", true] which needs the `added` doc) against rocketchat-sim.
//
// Real client vs spec: `reactToMessages` surfaces every event, the bot's own messages included;
// the own-message filter lives in `respondToMessages`. So the meta checks use reactToMessages and
// the "own message not surfaced" check uses respondToMessages({dm:true, allPublic:true}).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { driver } = require('@rocket.chat/sdk');
const { startSim, waitFor, seed, newId } = require('./sim');

let sim;
before(async () => {
  sim = await startSim();
  driver.useLog({ debug() {}, info() {}, warn() {}, warning() {}, error() {} });
});
after(async () => {
  const ddp = driver.asteroid && driver.asteroid.ddp;
  if (ddp) {
    ddp._autoreconnect = false;
    try { ddp._socket.close(); } catch { /* already closed */ }
  }
  await sim?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('connect, login, __my_messages__ meta per room, own message filtered', async () => {
  await driver.connect({ host: sim.url.replace(/^http:\/\//, ''), useSsl: false, timeout: 5000 });
  const uid = await driver.login({ username: 'mybot', password: seed.MYBOT_PASSWORD });
  assert.equal(uid, seed.MYBOT_ID);
  await driver.subscribeToMessages();

  const reacted = [];
  let onReact = () => {};
  driver.reactToMessages((err, message, meta) => {
    assert.ifError(err);
    reacted.push({ message, meta });
    onReact();
  });
  const responded = [];
  await driver.respondToMessages((err, message) => { if (!err) responded.push(message); },
    { dm: true, allPublic: true, rooms: [] });

  const seen = (id) => waitFor((done) => {
    onReact = () => { const hit = reacted.find((r) => r.message._id === id); if (hit) done(hit); };
    onReact();
  }, 3000, `__my_messages__ event for ${id}`);

  const cases = [
    { rid: seed.GENERAL, participant: true, type: 'c' },
    { rid: seed.DM_BOT_ALICE, participant: true, type: 'd' },
    { rid: seed.RANDOM, participant: false, type: 'c' }, // public, readable, not joined
  ];
  for (const c of cases) {
    const id = newId();
    const got = seen(id);
    await sim.post('alice', c.rid, `hi in ${c.rid}`, { _id: id });
    const { message, meta } = await got;
    assert.equal(message.rid, c.rid);
    assert.equal(message.u._id, seed.ALICE_ID);
    assert.equal(typeof message.ts.$date, 'number');
    assert.equal(meta.roomParticipant, c.participant, `roomParticipant for ${c.rid}`);
    assert.equal(meta.roomType, c.type, `roomType for ${c.rid}`);
    await sleep(5); // respondToMessages drops events whose ts is not after the previous one
  }

  // The bot's own message: delivered by the server, not surfaced by respondToMessages.
  const ownId = newId();
  const own = seen(ownId);
  await sim.post('mybot', seed.GENERAL, 'my own words', { _id: ownId });
  assert.equal((await own).message.u._id, seed.MYBOT_ID);
  await sleep(5);
  const lastId = newId();
  const last = seen(lastId);
  await sim.post('alice', seed.GENERAL, 'after the bot', { _id: lastId });
  await last;
  await sleep(50);
  const respondedIds = responded.map((m) => m._id);
  assert.ok(respondedIds.includes(lastId), 'respondToMessages surfaces alice');
  assert.ok(!respondedIds.includes(ownId), 'respondToMessages hides the bot\'s own message');
  assert.equal(respondedIds.filter((id) => id === lastId).length, 1);
});
