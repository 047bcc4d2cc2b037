// Runs the real Netlify Function (netlify/functions/invite-desk.mjs) under Node against the
// sandbox's Netlify Identity routes, the way Netlify would call it: the user's JWT decoded into
// context.clientContext.user, and an admin token for Identity in context.clientContext.identity.
//
// Needs: SANDBOX_URL, SANDBOX_JWT_SECRET, SANDBOX_OPERATOR_TOKEN, SANDBOX_OWNER_EMAIL,
// SANDBOX_OWNER_PASSWORD, SANDBOX_MEMBER_EMAIL, SANDBOX_MEMBER_PASSWORD
// (scripts/netlify-function-test.sh starts the sandbox and sets them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { handler, routeOf } from '../../netlify/functions/invite-desk.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run scripts/netlify-function-test.sh`);
  return v;
};
const SANDBOX = env('SANDBOX_URL').replace(/\/+$/, '');
const IDENTITY = `${SANDBOX}/.netlify/identity`;
const FN = '/.netlify/functions/invite-desk';

const b64url = (buf) => Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

// An HS256 JWT, as Netlify's GoTrue signs them.
function sign(claims, secret) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

async function signIn(email, password) {
  const res = await fetch(`${IDENTITY}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: email, password }),
  });
  assert.equal(res.status, 200, `sign-in of ${email}: ${await res.clone().text()}`);
  return (await res.json()).access_token;
}

// What Netlify passes to a function: the verified user's claims, and the admin identity.
function contextFor(userJwt, adminToken) {
  return {
    clientContext: {
      user: userJwt ? claimsOf(userJwt) : undefined,
      identity: { url: IDENTITY, token: adminToken },
    },
  };
}

function event(method, route, { body, query } = {}) {
  return {
    httpMethod: method,
    path: `${FN}${route}`,
    queryStringParameters: query || {},
    headers: {},
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

async function call(ctx, method, route, opts) {
  const r = await handler(event(method, route, opts), ctx);
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

async function mailbox() {
  const res = await fetch(`${SANDBOX}/__sandbox/mail`);
  assert.equal(res.status, 200);
  return res.text();
}

const minted = sign({ sub: '0', exp: Math.floor(Date.now() / 1000) + 300 }, env('SANDBOX_JWT_SECRET'));
const operator = env('SANDBOX_OPERATOR_TOKEN');
const ownerJwt = await signIn(env('SANDBOX_OWNER_EMAIL'), env('SANDBOX_OWNER_PASSWORD'));
const memberJwt = await signIn(env('SANDBOX_MEMBER_EMAIL'), env('SANDBOX_MEMBER_PASSWORD'));
const owner = contextFor(ownerJwt, minted);

test('routes are read after the function name', () => {
  assert.equal(routeOf('/.netlify/functions/invite-desk/users/abc'), '/users/abc');
  assert.equal(routeOf('/.netlify/functions/renamed/check/'), '/check');
  assert.equal(routeOf('/.netlify/functions/invite-desk'), '/');
});

test('no user token: 401 unauthorized', async () => {
  const r = await call(contextFor(null, minted), 'GET', '/check');
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'unauthorized');
});

test('a user without an allowed role: 403 forbidden, and nothing is invited', async () => {
  const member = contextFor(memberJwt, minted);
  assert.equal((await call(member, 'GET', '/check')).status, 403);
  const email = `spam-${randomUUID()}@example.com`;
  const r = await call(member, 'POST', '/invite', { body: { email } });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'forbidden');
  assert.ok(!(await mailbox()).includes(email), 'no invitation email for a refused caller');
});

test('INVITE_DESK_ROLES decides which roles may invite', async () => {
  process.env.INVITE_DESK_ROLES = 'editor, publisher';
  try {
    assert.equal((await call(owner, 'GET', '/check')).status, 403);
  } finally {
    delete process.env.INVITE_DESK_ROLES;
  }
  const r = await call(owner, 'GET', '/check');
  assert.equal(r.status, 200);
  assert.equal(r.body.ok, true);
  assert.equal(r.body.email, env('SANDBOX_OWNER_EMAIL'));
  assert.ok(r.body.roles.includes('admin'));
});

test('invite lands in the mailbox; a second invite of the address is Identity 422', async () => {
  const email = `fn-${randomUUID()}@example.com`;
  const r = await call(owner, 'POST', '/invite', { body: { email, data: { invite_message: 'Welcome aboard' } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.email, email);
  assert.ok(r.body.id && r.body.invited_at);
  assert.equal(r.body.user_metadata.invite_message, 'Welcome aboard');
  assert.ok((await mailbox()).includes(email), 'the invitation email was sent');
  const again = await call(owner, 'POST', '/invite', { body: { email } });
  assert.equal(again.status, 422);
  assert.equal(again.body.error.code, 'identity_error');
  assert.equal(again.body.error.status, 422);
  assert.match(again.body.error.message, /already registered/i);
});

test('the operator token works as the identity token too', async () => {
  const email = `op-${randomUUID()}@example.com`;
  const r = await call(contextFor(ownerJwt, operator), 'POST', '/invite', { body: { email } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('bad JSON is 400 bad_request; unknown routes are 404 not_found', async () => {
  const r = await call(owner, 'POST', '/invite', { body: '{not json' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'bad_request');
  const n = await call(owner, 'GET', '/nope');
  assert.equal(n.status, 404);
  assert.equal(n.body.error.code, 'not_found');
});

test('users are listed with total and next_page, read, and deleted', async () => {
  const emails = [];
  for (let i = 0; i < 3; i++) {
    const email = `page-${i}-${randomUUID()}@example.com`;
    emails.push(email);
    assert.equal((await call(owner, 'POST', '/invite', { body: { email } })).status, 200);
  }
  const p1 = await call(owner, 'GET', '/users', { query: { page: '1', per_page: '2' } });
  assert.equal(p1.status, 200);
  assert.equal(p1.body.users.length, 2);
  assert.ok(p1.body.total >= 3, `total ${p1.body.total}`);
  assert.equal(p1.body.next_page, 2);
  const found = await call(owner, 'GET', '/users', { query: { filter: emails[1] } });
  assert.equal(found.body.users.length, 1);
  const id = found.body.users[0].id;
  const one = await call(owner, 'GET', `/users/${id}`);
  assert.equal(one.status, 200);
  assert.equal(one.body.email, emails[1]);
  const del = await call(owner, 'DELETE', `/users/${id}`);
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, {});
  const gone = await call(owner, 'GET', `/users/${id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.error.code, 'not_found');
  const bad = await call(owner, 'GET', '/users/..%2Fsettings');
  assert.equal(bad.status, 404);
});

test('a bad identity token is reported as Identity said it', async () => {
  const ctx = contextFor(ownerJwt, sign({ sub: '0', exp: 1 }, env('SANDBOX_JWT_SECRET')));
  const r = await call(ctx, 'POST', '/invite', { body: { email: `x-${randomUUID()}@example.com` } });
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 'identity_error');
});

// The sandbox serves its own copy of this function at /.netlify/functions/invite-desk (so the
// app's tests need no Node). It must answer as the real file does: same status, same body.
async function viaSandboxCopy(jwt, method, route, { body, query } = {}) {
  const qs = query ? `?${new URLSearchParams(query)}` : '';
  const init = { method, headers: jwt ? { authorization: `Bearer ${jwt}` } : {} };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${SANDBOX}${FN}${route}${qs}`, init);
  return { status: res.status, body: await res.json() };
}

test("the sandbox's copy of the function answers as this file does", async () => {
  const cases = [
    [ownerJwt, 'GET', '/check'],
    [memberJwt, 'GET', '/check'],
    [null, 'GET', '/check'],
    [ownerJwt, 'POST', '/invite', { body: 'null' }],
    [ownerJwt, 'POST', '/invite', { body: '[1]' }],
    [ownerJwt, 'POST', '/invite'],
    [ownerJwt, 'POST', '/invite', { body: { email: 'nope' } }],
    [ownerJwt, 'GET', '/users', { query: { page: 'x' } }],
    [ownerJwt, 'GET', '/users/not-a-uuid'],
    [ownerJwt, 'GET', '/users/bad_id!'],
    [ownerJwt, 'GET', `/users/${randomUUID()}`],
    [ownerJwt, 'DELETE', `/users/${randomUUID()}`],
    [ownerJwt, 'PUT', '/users/abc'],
    [ownerJwt, 'GET', '/nope'],
    [ownerJwt, 'GET', ''],
  ];
  for (const [jwt, method, route, opts] of cases) {
    const real = await call(contextFor(jwt, minted), method, route, opts);
    const copy = await viaSandboxCopy(jwt, method, route, opts);
    assert.deepEqual(copy, real, `${method} ${route} ${JSON.stringify(opts || {})}`);
  }
  // Bad JSON: the text after the colon is the JSON parser's own, V8's in the real file.
  const real = await call(owner, 'POST', '/invite', { body: '{not json' });
  const copy = await viaSandboxCopy(ownerJwt, 'POST', '/invite', { body: '{not json' });
  assert.equal(copy.status, real.status);
  assert.equal(copy.body.error.code, real.body.error.code);
  const prefix = 'The request body is not JSON: ';
  assert.ok(real.body.error.message.startsWith(prefix) && copy.body.error.message.startsWith(prefix));
});
