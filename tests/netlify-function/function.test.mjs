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

// Identity's admin API, called as the function's admin (to set up users the app never makes).
async function identityAdmin(method, path, body) {
  const res = await fetch(`${IDENTITY}${path}`, {
    method,
    headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

async function idOf(email) {
  const r = await call(owner, 'GET', '/users', { query: { filter: email } });
  const u = r.body.users.find((x) => x.email === email);
  assert.ok(u, `${email} is listed`);
  return u.id;
}

async function stillThere(id) {
  const r = await call(owner, 'GET', `/users/${id}`);
  assert.equal(r.status, 200, `user ${id} is still there: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function acceptInvitation(email) {
  const mail = JSON.parse(await mailbox()).filter((m) => m.to === email);
  assert.ok(mail.length, `an invitation email to ${email}`);
  const res = await fetch(`${SANDBOX}/__sandbox/accept`, {
    method: 'POST',
    body: JSON.stringify({ link: mail[mail.length - 1].link }),
  });
  assert.equal(res.status, 200, await res.clone().text());
}

test('a direct DELETE of a confirmed member or an admin is 409 and the user stays', async () => {
  for (const email of [env('SANDBOX_MEMBER_EMAIL'), env('SANDBOX_OWNER_EMAIL')]) {
    const id = await idOf(email);
    const r = await call(owner, 'DELETE', `/users/${id}`);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'not_pending');
    assert.match(r.body.error.message, /is a member/);
    assert.ok(r.body.error.message.startsWith(email), r.body.error.message);
    await stillThere(id);
  }
  // The owner's session still works: the admin was not deleted.
  assert.equal((await call(owner, 'GET', '/check')).status, 200);
});

test('a direct DELETE of an accepted invitation or of a user who signed up is 409; a pending one goes', async () => {
  const accepted = `acc-${randomUUID()}@example.com`;
  assert.equal((await call(owner, 'POST', '/invite', { body: { email: accepted } })).status, 200);
  await acceptInvitation(accepted);
  const acceptedId = await idOf(accepted);
  const a = await call(owner, 'DELETE', `/users/${acceptedId}`);
  assert.equal(a.status, 409);
  assert.match(a.body.error.message, /accepted the invitation/);
  await stillThere(acceptedId);

  // Signed up, not yet confirmed: not an invitation either.
  const signedUp = `self-${randomUUID()}@example.com`;
  const created = await identityAdmin('POST', '/admin/users', { email: signedUp, password: 'pw-123456' });
  const s = await call(owner, 'DELETE', `/users/${created.id}`);
  assert.equal(s.status, 409);
  assert.equal(s.body.error.code, 'not_pending');
  assert.match(s.body.error.message, /signed up by themselves/);
  await stillThere(created.id);

  const pending = `pend-${randomUUID()}@example.com`;
  assert.equal((await call(owner, 'POST', '/invite', { body: { email: pending } })).status, 200);
  const pendingId = await idOf(pending);
  const p = await call(owner, 'DELETE', `/users/${pendingId}`);
  assert.equal(p.status, 200, JSON.stringify(p.body));
  assert.equal((await call(owner, 'GET', `/users/${pendingId}`)).status, 404);
});

test('users are listed without roles or other metadata; one user adds only the message', async () => {
  const email = `slim-${randomUUID()}@example.com`;
  await identityAdmin('POST', '/invite', {
    email,
    data: { full_name: 'Ann Example', invite_message: 'Hello', secret_note: 'private' },
  });
  await identityAdmin('PUT', `/admin/users/${await idOf(email)}`, { app_metadata: { roles: ['editor'] } });
  const all = await call(owner, 'GET', '/users', { query: { per_page: '100' } });
  assert.equal(all.status, 200);
  const keys = ['confirmed_at', 'created_at', 'email', 'id', 'invited_at', 'name'];
  for (const u of all.body.users) assert.deepEqual(Object.keys(u).sort(), keys, JSON.stringify(u));
  const text = JSON.stringify(all.body);
  for (const leak of ['app_metadata', 'user_metadata', 'roles', 'private', 'Hello']) {
    assert.ok(!text.includes(leak), `${leak} is not listed`);
  }
  const mine = all.body.users.find((u) => u.email === email);
  assert.equal(mine.name, 'Ann Example');
  assert.ok(mine.invited_at && mine.created_at && mine.confirmed_at === null);
  const one = await call(owner, 'GET', `/users/${mine.id}`);
  assert.deepEqual(Object.keys(one.body).sort(), [...keys, 'message'].sort());
  assert.equal(one.body.message, 'Hello');
  assert.ok(!JSON.stringify(one.body).includes('editor') && !JSON.stringify(one.body).includes('private'));
});

test('per_page is capped at 100', async () => {
  const before = (await call(owner, 'GET', '/users')).body.total;
  for (let i = before; i < 105; i++) {
    await identityAdmin('POST', '/admin/users', { email: `cap-${i}-${randomUUID()}@example.com` });
  }
  for (const per_page of ['1000', '101', '000000000000000000500']) {
    const r = await call(owner, 'GET', '/users', { query: { per_page } });
    assert.equal(r.status, 200);
    assert.equal(r.body.users.length, 100, `per_page=${per_page}`);
    assert.equal(r.body.next_page, 2);
  }
  assert.equal((await call(owner, 'GET', '/users', { query: { per_page: '7' } })).body.users.length, 7);
});

test('malformed ids are 404, never a crash', async () => {
  for (const method of ['GET', 'DELETE']) {
    for (const id of ['%', '%E0%A4%A', 'a'.repeat(65), 'not-a-uuid', `${randomUUID()}x`, '..%2Fsettings', '%00']) {
      const r = await call(owner, method, `/users/${id}`);
      assert.equal(r.status, 404, `${method} /users/${id}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'not_found');
    }
  }
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
  const memberId = await idOf(env('SANDBOX_MEMBER_EMAIL'));
  const ownerId = await idOf(env('SANDBOX_OWNER_EMAIL'));
  const pendingIds = [];
  for (let i = 0; i < 2; i++) {
    const email = `cmp-${i}-${randomUUID()}@example.com`;
    await identityAdmin('POST', '/invite', { email, data: { full_name: 'Cmp', invite_message: 'Hi' } });
    pendingIds.push(await idOf(email));
  }
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
    [ownerJwt, 'DELETE', '/users/not-a-uuid'],
    [ownerJwt, 'GET', '/users/%'],
    [ownerJwt, 'DELETE', '/users/%'],
    [ownerJwt, 'GET', `/users/${'a'.repeat(65)}`],
    [ownerJwt, 'GET', '/users/bad_id!'],
    [ownerJwt, 'GET', `/users/${memberId}`],
    [ownerJwt, 'DELETE', `/users/${memberId}`],
    [ownerJwt, 'DELETE', `/users/${ownerId}`],
    [ownerJwt, 'GET', `/users/${pendingIds[0]}`],
    [ownerJwt, 'GET', '/users', { query: { per_page: '1000', filter: '@example.com' } }],
    [ownerJwt, 'GET', '/users', { query: { per_page: 'x' } }],
    [memberJwt, 'DELETE', `/users/${pendingIds[0]}`],
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
  // Deleting a pending invitation: the file on one, the copy on the other, same answer.
  const real1 = await call(owner, 'DELETE', `/users/${pendingIds[0]}`);
  const copy1 = await viaSandboxCopy(ownerJwt, 'DELETE', `/users/${pendingIds[1]}`);
  assert.deepEqual(copy1, real1);
  assert.equal(real1.status, 200);
  // Bad JSON: the text after the colon is the JSON parser's own, V8's in the real file.
  const real = await call(owner, 'POST', '/invite', { body: '{not json' });
  const copy = await viaSandboxCopy(ownerJwt, 'POST', '/invite', { body: '{not json' });
  assert.equal(copy.status, real.status);
  assert.equal(copy.body.error.code, real.body.error.code);
  const prefix = 'The request body is not JSON: ';
  assert.ok(real.body.error.message.startsWith(prefix) && copy.body.error.message.startsWith(prefix));
});
