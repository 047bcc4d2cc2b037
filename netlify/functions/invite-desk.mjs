// Invite Desk's Netlify Function: lets a signed-in Identity user with an allowed role invite,
// list and cancel invitations, using the admin token Netlify gives only to functions.
//
// Deploy: copy this file to netlify/functions/invite-desk.mjs in your site's repository.
// Optional environment variable INVITE_DESK_ROLES: comma-separated roles allowed to use it
// (default "admin"). Plain JavaScript, no dependencies, Node 18+ (global fetch).
//
// Routes (after /.netlify/functions/invite-desk), all with `Authorization: Bearer <user JWT>`:
//   GET    /check                          -> {"ok":true,"email","roles"}
//   POST   /invite   {"email","data"?}     -> the Identity user
//   GET    /users?page=&per_page=&filter=  -> {"users","total","next_page"}, per_page at most 100;
//                                             each user only {id,email,name,invited_at,confirmed_at,created_at}
//   GET    /users/{id}                     -> the same fields plus "message" (the invitation's)
//   DELETE /users/{id}                     -> {} only for a pending invitation (invited, not confirmed)
// Errors: {"error":{"code","message"}} with 401 unauthorized, 403 forbidden, 404 not_found,
// 400 bad_request, 409 not_pending, or Identity's own status with code identity_error.
//
// Anyone with an allowed role can call these routes directly, not only through Invite Desk, so
// the function itself is the boundary: it never deletes a member or a user who signed up by
// themselves, and it never hands out roles (app_metadata) or other profile data.

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
// Identity's user ids are UUIDs; anything else cannot name a user.
const ID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const MAX_PER_PAGE = 100;

function reply(statusCode, body) {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

function fail(statusCode, code, message, extra) {
  return reply(statusCode, { error: { code, ...(extra || {}), message } });
}

function allowedRoles() {
  return (process.env.INVITE_DESK_ROLES || 'admin')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}

// The route after the function's own path, whatever the function file is called.
export function routeOf(path) {
  const p = String(path || '').replace(/\/+$/, '');
  const m = p.match(/\/\.netlify\/functions\/[^/]+(\/.*)?$/);
  if (m) return m[1] || '/';
  const i = p.indexOf('/invite-desk');
  if (i >= 0) return p.slice(i + '/invite-desk'.length) || '/';
  return p || '/';
}

function nextPage(link) {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = part.match(/<([^>]*)>\s*;(.*)$/);
    if (!m || !/rel\s*=\s*"?next"?/i.test(m[2])) continue;
    const page = Number(new URL(m[1], 'http://link.invalid/').searchParams.get('page'));
    return Number.isInteger(page) && page > 0 ? page : null;
  }
  return null;
}

async function identityCall(identity, method, path, body) {
  const init = { method, headers: { authorization: `Bearer ${identity.token}` } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const url = `${String(identity.url).replace(/\/+$/, '')}${path}`;
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    return { fault: fail(502, 'identity_unreachable', `Could not reach Netlify Identity: ${e.message}`) };
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const message = (data && (data.msg || data.message || data.error_description || data.error)) || text || res.statusText;
    if (res.status === 404 && method !== 'POST') {
      return { fault: fail(404, 'not_found', String(message)) };
    }
    return { fault: fail(res.status, 'identity_error', String(message), { status: res.status }) };
  }
  return { res, data };
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// A non-empty string from user_metadata, else null.
function metaText(u, key) {
  const m = isObject(u) ? u.user_metadata : null;
  const v = isObject(m) ? m[key] : null;
  return typeof v === 'string' && v.trim() ? v : null;
}

function fieldOf(u, key) {
  return isObject(u) ? (u[key] ?? null) : null;
}

function timeOf(u, key) {
  const v = fieldOf(u, key);
  return typeof v === 'string' ? v : null;
}

// Only what Invite Desk shows of a user: no roles (app_metadata), no other metadata.
function slimUser(u) {
  return {
    id: fieldOf(u, 'id'),
    email: fieldOf(u, 'email'),
    name: metaText(u, 'full_name') ?? metaText(u, 'name'),
    invited_at: timeOf(u, 'invited_at'),
    confirmed_at: timeOf(u, 'confirmed_at'),
    created_at: timeOf(u, 'created_at'),
  };
}

// Identity's per_page has no maximum: a whole user base in one answer is not something the
// app needs. Whole numbers above the cap become the cap; anything else is Identity's to judge.
function cappedPerPage(v) {
  const s = String(v);
  return /^[0-9]+$/.test(s) && Number(s) > MAX_PER_PAGE ? String(MAX_PER_PAGE) : s;
}

function readBody(event) {
  if (!event.body) return {};
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return JSON.parse(raw);
}

export const handler = async (event, context) => {
  const client = (context && context.clientContext) || {};
  const user = client.user;
  if (!user || !user.sub) {
    return fail(401, 'unauthorized', 'Sign in with your Netlify Identity account: this request had no valid user token.');
  }
  const roles = (user.app_metadata && Array.isArray(user.app_metadata.roles) && user.app_metadata.roles) || [];
  const allowed = allowedRoles();
  if (!roles.some((r) => allowed.includes(r))) {
    return fail(
      403,
      'forbidden',
      `${user.email || 'This user'} lacks a role allowed to invite (${allowed.join(', ')}). Add it under Identity → user → Roles.`,
    );
  }
  const identity = client.identity;
  if (!identity || !identity.url || !identity.token) {
    return fail(500, 'identity_unavailable', 'Netlify Identity is not enabled for this site, so the function has no admin token.');
  }

  const method = (event.httpMethod || 'GET').toUpperCase();
  const route = routeOf(event.path);
  const q = event.queryStringParameters || {};

  if (method === 'GET' && route === '/check') {
    return reply(200, { ok: true, email: user.email || null, roles });
  }

  if (method === 'POST' && route === '/invite') {
    let body;
    try {
      body = readBody(event);
    } catch (e) {
      return fail(400, 'bad_request', `The request body is not JSON: ${e.message}`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return fail(400, 'bad_request', 'The request body must be a JSON object {"email", "data"}.');
    }
    const payload = { email: typeof body.email === 'string' ? body.email.trim() : '' };
    if (body.data && typeof body.data === 'object' && !Array.isArray(body.data)) payload.data = body.data;
    const r = await identityCall(identity, 'POST', '/invite', payload);
    return r.fault || reply(200, r.data);
  }

  if (method === 'GET' && route === '/users') {
    const params = new URLSearchParams();
    for (const k of ['page', 'per_page', 'filter']) {
      if (q[k] !== undefined && q[k] !== null && q[k] !== '') {
        params.set(k, k === 'per_page' ? cappedPerPage(q[k]) : String(q[k]));
      }
    }
    const qs = params.toString();
    const r = await identityCall(identity, 'GET', `/admin/users${qs ? `?${qs}` : ''}`);
    if (r.fault) return r.fault;
    const users = (r.data && Array.isArray(r.data.users) && r.data.users) || [];
    const totalHeader = Number(r.res.headers.get('x-total-count'));
    return reply(200, {
      users: users.map(slimUser),
      total: Number.isFinite(totalHeader) && r.res.headers.get('x-total-count') !== null ? totalHeader : users.length,
      next_page: nextPage(r.res.headers.get('link')),
    });
  }

  const m = route.match(/^\/users\/([^/]+)$/);
  if (m && (method === 'GET' || method === 'DELETE')) {
    let id = '';
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = ''; // a malformed escape such as `%` names no user
    }
    if (!ID_RE.test(id)) return fail(404, 'not_found', 'No user has that id.');
    // Read first, for DELETE too: only a pending invitation may be deleted.
    const r = await identityCall(identity, 'GET', `/admin/users/${id}`);
    if (r.fault) return r.fault;
    const u = isObject(r.data) ? r.data : {};
    if (method === 'GET') return reply(200, { ...slimUser(u), message: metaText(u, 'invite_message') });
    const who = u.email || 'This user';
    if (u.confirmed_at) {
      return fail(
        409,
        'not_pending',
        `${who} has accepted the invitation and is a member. This function deletes only pending invitations; remove members in the Netlify dashboard.`,
      );
    }
    if (!u.invited_at) {
      return fail(
        409,
        'not_pending',
        `${who} signed up by themselves and was never invited. This function deletes only pending invitations; remove users in the Netlify dashboard.`,
      );
    }
    const d = await identityCall(identity, 'DELETE', `/admin/users/${id}`);
    if (d.fault) return d.fault;
    return reply(200, {});
  }

  return fail(404, 'not_found', `No route ${method} ${route}.`);
};
