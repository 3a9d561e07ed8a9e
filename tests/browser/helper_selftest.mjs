// Browser.Helper: browser.mjs itself, on pages made in place (no server):
// it launches Debian's chromium, saves screenshots, and fails a test for a
// console error or an uncaught exception unless that error was expected, so
// a browser test that passes has really been watched.
//
//   node helper_selftest.mjs ARTIFACTS_DIR
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { step, withBrowser } from './browser.mjs'

const artifacts = process.argv[2]
if (!artifacts) {
  console.error('usage: node helper_selftest.mjs ARTIFACTS_DIR')
  process.exit(2)
}
const scratch = mkdtempSync(join(tmpdir(), 'trellis-browser-helper-'))
const page = (script) => `<!doctype html><title>t</title><h1>hello</h1><script>${script}</script>`

try {
  await step('a clean page passes and its screenshot is saved', async () => {
    await withBrowser({ artifacts, name: 'helper' }, async (session) => {
      const p = await session.newPage()
      await p.setContent(page('console.log("fine")'))
      const path = await session.screenshot(p, 'browser-helper')
      assert.ok(existsSync(path), `${path} was not written`)
    })
  })

  await step('a console error fails the session', async () => {
    await assert.rejects(
      withBrowser({ artifacts: scratch, name: 'console' }, async (session) => {
        const p = await session.newPage()
        await p.setContent(page('console.error("boom from the page")'))
        await p.waitForTimeout(100)
      }),
      /1 unexpected browser error\(s\):\n.*console .*boom from the page/s,
    )
  })

  await step('an uncaught exception fails the session', async () => {
    await assert.rejects(
      withBrowser({ artifacts: scratch, name: 'throw' }, async (session) => {
        const p = await session.newPage()
        await p.setContent(page('setTimeout(() => { throw new Error("thrown by the page") }, 0)'))
        await p.waitForTimeout(200)
      }),
      /pageerror .*thrown by the page/s,
    )
  })

  await step('an expected error is accepted, once', async () => {
    await withBrowser({ artifacts: scratch, name: 'expected' }, async (session) => {
      session.expectError(/expected one/)
      const p = await session.newPage()
      await p.setContent(page('console.error("the expected one")'))
      await p.waitForTimeout(100)
    })
    await assert.rejects(
      withBrowser({ artifacts: scratch, name: 'twice' }, async (session) => {
        session.expectError(/expected one/)
        const p = await session.newPage()
        await p.setContent(page('console.error("the expected one"); console.error("the expected one")'))
        await p.waitForTimeout(100)
      }),
      /1 unexpected browser error/,
    )
  })

  await step('a failing body saves a failure screenshot and rethrows', async () => {
    await assert.rejects(
      withBrowser({ artifacts: scratch, name: 'body' }, async (session) => {
        const p = await session.newPage()
        await p.setContent(page(''))
        throw new Error('the test failed')
      }),
      /the test failed/,
    )
    assert.ok(existsSync(join(scratch, 'body-failure-1.png')), 'no failure screenshot')
  })
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
console.log('helper_selftest: OK')
