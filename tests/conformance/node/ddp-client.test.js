'use strict';
// @rocket.chat/ddp-client 1.1.2 (the official SDK) against rocketchat-sim.
// Node 20 has no global WebSocket and DDPSDK.create() passes the global one to its
// connection, so `ws` is installed as globalThis.WebSocket first.
globalThis.WebSocket ??= require('ws');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { DDPSDK } = require('@rocket.chat/ddp-client');
const { startSim, waitFor, seed, newId } = require('./sim');

let sim;
const clients = [];
before(async () => { sim = await startSim(); });
after(async () => {
  // close() never emits the 'close' event the SDK's TimeoutControl listens for, so its 60 s
  // timeout and 30 s heartbeat timers would keep this process alive a minute: stop them here.
  for (const sdk of clients) {
    sdk.connection.close();
    sdk.timeoutControl.stop();
  }
  await sim?.stop();
});

async function connect() {
  // The SDK takes the http base URL and appends /websocket itself.
  const sdk = DDPSDK.create(sim.url);
  clients.push(sdk);
  await sdk.connection.connect();
  return sdk;
}

test('loginWithToken resolves with the bot user id', async () => {
  const sdk = await connect();
  const result = await sdk.account.loginWithToken(seed.MYBOT_TOKEN);
  assert.equal(result.id, seed.MYBOT_ID);
  assert.equal(result.token, seed.MYBOT_TOKEN);
  assert.equal(typeof result.tokenExpires.$date, 'number'); // the SDK destructures it
  assert.equal(sdk.account.uid, seed.MYBOT_ID);
});

test('stream room-messages GENERAL receives a message posted via /_sim/post', async () => {
  const sdk = await connect();
  await sdk.account.loginWithToken(seed.MYBOT_TOKEN);
  let sub;
  const id = newId();
  const got = waitFor((done) => {
    sub = sdk.stream('room-messages', seed.GENERAL, (msg) => { if (msg._id === id) done(msg); });
  }, 3000, 'room-messages event');
  await sub.ready();
  await sim.post('alice', seed.GENERAL, 'hello from alice', { _id: id });
  const msg = await got;
  assert.equal(msg.rid, seed.GENERAL);
  assert.equal(msg.msg, 'hello from alice');
  assert.equal(msg.u._id, seed.ALICE_ID);
  assert.equal(typeof msg.ts.$date, 'number'); // EJSON date on DDP
  sub.stop();
});

test('an unknown token rejects with the 403 Meteor error', async () => {
  const sdk = await connect();
  await assert.rejects(sdk.account.loginWithToken('not-a-valid-token'), (err) => {
    assert.equal(err.error, 403);
    assert.equal(err.reason, seed.LOGGED_OUT_REASON);
    assert.equal(err.errorType, 'Meteor.Error');
    return true;
  });
  assert.equal(sdk.account.uid, undefined);
});
