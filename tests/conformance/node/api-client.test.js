'use strict';
// @rocket.chat/api-client 0.2.57: REST envelope and the 2FA challenge/retry loop.
// The client only runs its 2FA handler on HTTP 400 with errorType totp-required|totp-invalid
// and details.method in {totp,email,password}; it then resends with x-2fa-code/x-2fa-method.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { RestClient } = require('@rocket.chat/api-client');
const { startSim, seed } = require('./sim');

let sim;
before(async () => { sim = await startSim(); });
after(async () => { await sim?.stop(); });

function recordingFetch() {
  const calls = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init = {}) => {
    const res = await realFetch(url, init);
    calls.push({ url: String(url), headers: { ...(init.headers || {}) }, status: res.status });
    return res;
  };
  return { calls, restore: () => { globalThis.fetch = realFetch; } };
}

test('totp-required on generatePersonalAccessToken: handler called once, retry succeeds', async () => {
  const client = new RestClient({
    baseUrl: sim.url, // the client appends /api itself: endpoints are '/v1/...'
    credentials: { 'X-User-Id': seed.MYBOT_ID, 'X-Auth-Token': seed.MYBOT_TOKEN },
  });
  const challenges = [];
  client.handleTwoFactorChallenge(async (challenge) => {
    challenges.push(challenge);
    // method "password": the code is the sha256 hex of the account password (vectors.json generate_pat)
    return crypto.createHash('sha256').update(seed.MYBOT_PASSWORD).digest('hex');
  });

  const rec = recordingFetch();
  let body;
  try {
    body = await client.post('/v1/users.generatePersonalAccessToken', { tokenName: 'ci', bypassTwoFactor: true });
  } finally {
    rec.restore();
  }

  assert.equal(challenges.length, 1);
  assert.equal(challenges[0].method, 'password');
  assert.equal(challenges[0].invalidAttempt, false);
  assert.equal(body.success, true);
  assert.equal(typeof body.token, 'string');
  assert.ok(body.token.length > 0);

  assert.equal(rec.calls.length, 2);
  assert.equal(rec.calls[0].url, `${sim.url}/api/v1/users.generatePersonalAccessToken`);
  assert.equal(rec.calls[0].status, 400);
  assert.equal(rec.calls[0].headers['x-2fa-code'], undefined);
  assert.equal(rec.calls[1].status, 200);
  assert.equal(rec.calls[1].headers['x-2fa-method'], 'password');
  // sha256('s3cret') = 1ec1c26b…; the code shown in vectors.json generate_pat (2bb80d53…) is not
  // the digest of the seeded password (its meta calls digests illustrative), so compute it.
  assert.equal(rec.calls[1].headers['x-2fa-code'],
    crypto.createHash('sha256').update(seed.MYBOT_PASSWORD).digest('hex'));
  assert.equal(rec.calls[1].headers['X-User-Id'], seed.MYBOT_ID);
});

test('without a handler the 400 totp-required rejects with the Response', async () => {
  const client = new RestClient({
    baseUrl: sim.url,
    credentials: { 'X-User-Id': seed.MYBOT_ID, 'X-Auth-Token': seed.MYBOT_TOKEN },
  });
  // api-client rejects with the fetch Response itself; read it after the rejection
  // (assert.rejects wants a synchronous validator).
  let res;
  await assert.rejects(client.post('/v1/users.generatePersonalAccessToken', { tokenName: 'ci2', bypassTwoFactor: true }),
    (r) => { res = r; return true; });
  {
      assert.equal(res.status, 400);
      const err = await res.json();
      assert.equal(err.success, false);
      assert.equal(err.errorType, 'totp-required');
      assert.equal(err.error, 'TOTP Required [totp-required]');
      assert.equal(err.details.method, 'password');
  }
});

test('GET me with credentials returns the REST user', async () => {
  const client = new RestClient({
    baseUrl: sim.url,
    credentials: { 'X-User-Id': seed.MYBOT_ID, 'X-Auth-Token': seed.MYBOT_TOKEN },
  });
  const me = await client.get('/v1/me');
  assert.equal(me.success, true);
  assert.equal(me._id, seed.MYBOT_ID);
  assert.equal(me.username, 'mybot');
});
