// Contract test: the official @supabase/supabase-js admin client against invite-sandbox.
// Usage: SANDBOX_URL=http://127.0.0.1:PORT SERVICE_ROLE_KEY=... ANON_KEY=... node supabase-js.test.mjs
import assert from 'node:assert/strict'
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'

const url = process.env.SANDBOX_URL
const serviceKey = process.env.SERVICE_ROLE_KEY
const anonKey = process.env.ANON_KEY
assert.ok(url && serviceKey && anonKey, 'SANDBOX_URL, SERVICE_ROLE_KEY and ANON_KEY are required')

const opts = { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: ws } }
const admin = createClient(url, serviceKey, opts).auth.admin
const anon = createClient(url, anonKey, opts).auth.admin
const stamp = Date.now()
const email = (n) => `contract-${stamp}-${n}@example.com`

let passed = 0
async function step(name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok - ${name}`)
  } catch (e) {
    console.error(`not ok - ${name}\n`, e)
    process.exitCode = 1
  }
}

await step('inviteUserByEmail creates an invited user', async () => {
  const { data, error } = await admin.inviteUserByEmail(email(1), { data: { full_name: 'One' }, redirectTo: 'http://localhost:3000/welcome' })
  assert.equal(error, null)
  assert.equal(data.user.email, email(1))
  assert.ok(data.user.invited_at)
  assert.deepEqual(data.user.user_metadata, { full_name: 'One' })
})

await step('inviteUserByEmail twice re-sends for an unconfirmed user', async () => {
  const { data, error } = await admin.inviteUserByEmail(email(1))
  assert.equal(error, null)
  assert.equal(data.user.email, email(1))
  const mail = await (await fetch(`${url}/__sandbox/mail`)).json()
  const mine = mail.filter((m) => m.to === email(1))
  assert.equal(mine.length, 2)
  assert.notEqual(mine[0].link, mine[1].link)
  assert.ok(mine[0].link.includes('redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fwelcome'))
})

await step('listUsers pages with perPage 2 (nextPage, lastPage, total)', async () => {
  for (let i = 2; i <= 5; i++) {
    const { error } = await admin.inviteUserByEmail(email(i))
    assert.equal(error, null)
  }
  const first = await admin.listUsers({ page: 1, perPage: 2 })
  assert.equal(first.error, null)
  const total = first.data.total
  assert.ok(total >= 5, `total ${total}`)
  assert.equal(first.data.users.length, 2)
  assert.equal(first.data.nextPage, 2)
  assert.equal(first.data.lastPage, Math.ceil(total / 2))
  const second = await admin.listUsers({ page: 2, perPage: 2 })
  assert.equal(second.data.nextPage, 3)
  assert.notEqual(second.data.users[0].id, first.data.users[0].id)
  const last = await admin.listUsers({ page: first.data.lastPage, perPage: 2 })
  assert.equal(last.data.nextPage, null)
  const all = await admin.listUsers()
  assert.equal(all.error, null)
  assert.equal(all.data.total, total)
})

await step('generateLink type invite returns properties and sends no mail', async () => {
  const before = (await (await fetch(`${url}/__sandbox/mail`)).json()).length
  const { data, error } = await admin.generateLink({ type: 'invite', email: email(6), options: { redirectTo: 'http://localhost:3000/x' } })
  assert.equal(error, null)
  assert.equal(data.user.email, email(6))
  assert.equal(data.properties.verification_type, 'invite')
  assert.ok(data.properties.action_link.includes('/verify?token='))
  assert.equal(data.properties.redirect_to, 'http://localhost:3000/x')
  assert.ok(data.properties.hashed_token)
  assert.equal(data.properties.email_otp.length, 6)
  const after = (await (await fetch(`${url}/__sandbox/mail`)).json()).length
  assert.equal(after, before)
})

await step('deleteUser removes the user', async () => {
  const { data: inv } = await admin.inviteUserByEmail(email(7))
  const { error } = await admin.deleteUser(inv.user.id)
  assert.equal(error, null)
  const got = await admin.getUserById(inv.user.id)
  assert.equal(got.error.status, 404)
  assert.equal(got.error.code, 'user_not_found')
})

await step('anon key gets not_admin 403', async () => {
  const { data, error } = await anon.inviteUserByEmail(email(8))
  assert.equal(data.user, null)
  assert.equal(error.status, 403)
  assert.equal(error.code, 'not_admin')
  assert.equal(error.message, 'User not allowed')
})

await step('a confirmed user gets email_exists 422', async () => {
  const mail = await (await fetch(`${url}/__sandbox/mail`)).json()
  const link = mail.find((m) => m.to === email(3)).link
  const acc = await fetch(`${url}/__sandbox/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link, password: 'secret-123' }) })
  assert.equal(acc.status, 200)
  const { error } = await admin.inviteUserByEmail(email(3))
  assert.equal(error.status, 422)
  assert.equal(error.code, 'email_exists')
})

await step('sb_secret_ key through the gateway acts as service_role', async () => {
  // A missing key is a broken setup, not a step to skip.
  assert.ok(process.env.SECRET_KEY, 'SECRET_KEY is not set: the sandbox printed no secret_key')
  const sec = createClient(url, process.env.SECRET_KEY, opts).auth.admin
  const { data, error } = await sec.listUsers({ page: 1, perPage: 1 })
  assert.equal(error, null)
  assert.equal(data.users.length, 1)
})

console.log(`${passed} passed`)
