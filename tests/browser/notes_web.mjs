// The notes web app (examples/notes-web) in headless chromium against a real
// `trellis serve` (started by notes_web_test.sh: notes at /api/notes, the
// app's plugin at /):
//   open the app; create a note through the form; open its deep link in a
//   fresh page (the SPA fallback); edit it; submit a 201-character title and
//   see the 422's message next to the field; delete it; open the deleted
//   note's link and see the 404 problem; no unexpected console errors;
//   screenshots in ARTIFACTS.
//
//   node notes_web.mjs BASE_URL ARTIFACTS_DIR
import assert from 'node:assert/strict'
import { step, withBrowser } from './browser.mjs'

const [base, artifacts] = process.argv.slice(2)
if (!base || !artifacts) {
  console.error('usage: node notes_web.mjs BASE_URL ARTIFACTS_DIR')
  process.exit(2)
}
const url = (path) => new URL(path, base).href

async function waitForValue(page, selector, value) {
  await page.waitForFunction(([s, v]) => document.querySelector(s)?.value === v, [selector, value])
}

async function apiNote(page, id) {
  const res = await page.request.get(url(`/api/notes/${id}`), { headers: { Accept: 'application/json' } })
  return { status: res.status(), body: res.status() === 200 ? await res.json() : null }
}

await withBrowser({ artifacts, name: 'notes-web' }, async (session) => {
  // Chromium writes a console line for every fetch answered with an error
  // status; these are the two this test provokes on purpose.
  session.expectError(/status of 422 .*\/api\/notes\/\d+$/)
  session.expectError(/status of 404 .*\/api\/notes\/\d+$/)

  const page = await session.newPage()
  const answers = new Map()
  page.on('response', (response) => answers.set(new URL(response.url()).pathname, response))

  await step('the app loads at / with an empty list', async () => {
    const res = await page.goto(url('/'))
    assert.equal(res.status(), 200)
    await page.getByRole('heading', { name: 'Notes' }).waitFor()
    await page.getByText('No notes yet.').waitFor()
  })

  await step('the build is served as a built app should be', async () => {
    const index = await answers.get('/').allHeaders()
    assert.match(index['content-type'], /^text\/html/)
    assert.match(index['cache-control'], /no-cache/)
    const script = [...answers.keys()].find((p) => /^\/assets\/index-[\w-]+\.js$/.test(p))
    const style = [...answers.keys()].find((p) => /^\/assets\/index-[\w-]+\.css$/.test(p))
    assert.ok(script && style, `no hashed script and style among ${[...answers.keys()].join(', ')}`)
    const js = await answers.get(script).allHeaders()
    assert.match(js['content-type'], /javascript/)
    assert.match(js['cache-control'], /max-age=31536000.*immutable|immutable.*max-age=31536000/)
    assert.equal(js['content-encoding'], 'br', 'the precompressed .br sibling is served to chromium')
    const css = await answers.get(style).allHeaders()
    assert.match(css['content-type'], /^text\/css/)
  })

  // Navigating inside the app must not reload the document.
  await page.evaluate(() => { window.__sameDocument = true })

  const title = 'Buy oat milk'
  const id = await step('a note is created through the form', async () => {
    await page.getByRole('link', { name: 'New note' }).first().click()
    await page.waitForURL(url('/notes/new'))
    await page.getByLabel('Title').fill(title)
    await page.getByLabel('Body').fill('Two cartons, the barista kind.')
    await page.getByLabel('Tag').fill('errands')
    await page.getByRole('button', { name: 'Create note' }).click()
    await page.waitForURL(/\/notes\/\d+$/)
    await page.getByText('Note created.').waitFor()
    const created = Number(new URL(page.url()).pathname.split('/').pop())
    assert.ok(created > 0)
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'client-side navigation reloaded the page')
    const stored = await apiNote(page, created)
    assert.equal(stored.status, 200)
    assert.equal(stored.body.title, title)
    assert.equal(stored.body.tag, 'errands')
    return created
  })

  await step('the list shows it', async () => {
    await page.getByRole('link', { name: 'All notes' }).first().click()
    await page.waitForURL(url('/'))
    await page.getByRole('link', { name: title }).waitFor()
    await session.screenshot(page, 'notes-web-list')
  })

  const deep = await step(`its deep link /notes/${id} opens in a fresh page (SPA fallback)`, async () => {
    const fresh = await session.newPage()
    const res = await fresh.goto(url(`/notes/${id}`))
    assert.equal(res.status(), 200)
    const headers = await res.allHeaders()
    assert.match(headers['content-type'], /^text\/html/)
    assert.match(headers['cache-control'], /no-cache/)
    await waitForValue(fresh, '#title', title)
    await waitForValue(fresh, '#tag', 'errands')
    return fresh
  })

  const edited = 'Buy oat milk and bread'
  await step('it is edited', async () => {
    await deep.getByLabel('Title').fill(edited)
    await deep.getByLabel('Pinned').check()
    await deep.getByRole('button', { name: 'Save' }).click()
    await deep.getByText('Saved.').waitFor()
    const stored = await apiNote(deep, id)
    assert.equal(stored.body.title, edited)
    assert.equal(stored.body.pinned, true)
  })

  await step("a 201-character title shows the 422's message next to the field", async () => {
    await deep.getByLabel('Title').fill('x'.repeat(201))
    const [answer] = await Promise.all([
      deep.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/notes/${id}`)),
      deep.getByRole('button', { name: 'Save' }).click(),
    ])
    assert.equal(answer.status(), 422)
    assert.match(answer.headers()['content-type'], /^application\/problem\+json/)
    const problem = await answer.json()
    const entry = problem.errors?.find((e) => e.field === 'title')
    assert.ok(entry?.message, `no title entry in ${JSON.stringify(problem)}`)
    const shown = deep.locator('#title-error')
    await shown.waitFor()
    assert.equal((await shown.textContent()).trim(), entry.message)
    assert.equal(await deep.getByLabel('Title').getAttribute('aria-invalid'), 'true')
    const alert = deep.getByRole('alert')
    await alert.waitFor()
    assert.ok((await alert.textContent()).includes(problem.title), 'the problem title is shown')
    await session.screenshot(deep, 'notes-web')
    assert.equal((await apiNote(deep, id)).body.title, edited, 'the refused title was stored')
  })

  await step('it is deleted', async () => {
    await deep.getByRole('button', { name: 'Delete' }).click()
    await deep.getByRole('button', { name: 'Yes, delete' }).click()
    await deep.waitForURL(url('/'))
    await deep.getByText(`Deleted “${edited}”.`).waitFor()
    await deep.getByText('No notes yet.').waitFor()
    assert.equal((await apiNote(deep, id)).status, 404)
  })

  await step("the deleted note's link shows the API's 404 problem", async () => {
    const gone = await session.isolatedPage()
    const res = await gone.goto(url(`/notes/${id}`))
    assert.equal(res.status(), 200)
    const alert = gone.getByRole('alert')
    await alert.waitFor()
    assert.match(await alert.textContent(), /Not Found/)
    assert.equal(await alert.getAttribute('data-status'), '404')
  })

  await step('an unknown path is the app\'s own "not found" page', async () => {
    await page.goto(url('/no/such/page'))
    await page.getByRole('heading', { name: 'Not found' }).waitFor()
  })
  console.log(`expected console errors seen: ${session.expected.map((e) => `${e.pattern} x${e.seen}`).join(', ')}`)
})
console.log('notes_web: OK')
