// The operator dashboard (admin listener GET /) in Debian's chromium: it
// loads without console errors, names the configured plugins and their
// routes, and its request counter and the route's rate move after requests
// are sent to the serving port (the page polls /dashboard.json every 2 s).
//
//   node dashboard.mjs ADMIN_URL SERVING_URL ARTIFACTS_DIR
import assert from 'node:assert/strict'
import { step, withBrowser } from './browser.mjs'

const [admin, serving, artifacts] = process.argv.slice(2)
if (!admin || !serving || !artifacts) {
  console.error('usage: node dashboard.mjs ADMIN_URL SERVING_URL ARTIFACTS_DIR')
  process.exit(2)
}

const number = async (page, selector) => Number((await page.locator(selector).textContent()).trim())

await withBrowser({ artifacts, name: 'dashboard', viewport: { width: 1280, height: 900 } }, async (session) => {
  const page = await session.newPage()
  await step('the page loads from the admin listener', async () => {
    const response = await page.goto(`${admin}/`)
    assert.equal(response.status(), 200)
    assert.match(response.headers()['content-type'], /^text\/html/)
    await page.getByRole('heading', { name: 'Workers' }).waitFor()
  })
  await step('it goes live (the first poll of /dashboard.json)', async () => {
    await page.locator('#status.live').waitFor()
  })
  await step('it shows the workers and the configured plugins with their routes', async () => {
    const workers = page.locator('#workers tbody tr')
    assert.equal(await workers.count(), 2)
    await page.locator('#workers tbody tr', { hasText: 'ready' }).first().waitFor()
    const plugins = page.locator('#plugins tbody tr')
    assert.equal(await plugins.count(), 2)
    await page.locator('#plugins tbody tr', { hasText: 'hello' }).getByText('/hello/{name}', { exact: true }).waitFor()
    await page.locator('#plugins tbody tr', { hasText: 'notes' }).getByText('/api/notes/{id:int}', { exact: true }).waitFor()
    assert.equal(await number(page, '#generation'), 1)
  })
  const before = await number(page, '#total-requests')
  await step('its counter moves after requests are sent', async () => {
    // Over the next polls, so that the page sees a rate between two of them.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${serving}/hello/dashboard`)
        assert.equal(r.status, 200)
        await r.text()
      }
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    await page.waitForFunction((n) => Number(document.getElementById('total-requests').textContent) >= n, before + 60, {
      timeout: 10_000,
    })
    const row = page.locator('#routes tbody tr', { hasText: '/hello/{name}' })
    await row.waitFor()
    const cells = row.locator('td')
    assert.ok(Number(await cells.nth(2).textContent()) >= 60, 'the route counts the requests')
    // The rate column fills once two polls saw the route.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#routes tbody tr')]
      const row = rows.find((r) => r.cells[0].textContent === '/hello/{name}')
      return row && row.cells[3].textContent !== '-'
    }, null, { timeout: 10_000 })
    // The chart has points.
    await page.waitForFunction(() => document.getElementById('chart-line').getAttribute('points').length > 0, null, {
      timeout: 10_000,
    })
  })
  await session.screenshot(page, 'dashboard')
})
console.log('dashboard: OK')
