// After `vite build`: a Brotli (.br) and a gzip (.gz) sibling beside every
// compressible file of the build, kept only when smaller. Trellis serves a
// sibling instead of the file when the client accepts its encoding
// (host/app/static_files.hpp), so nothing is compressed per request.
// Uses Node's own zlib: no extra package.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const outDir = process.env.NOTES_WEB_OUT_DIR ?? 'dist'
const compressible = /\.(html|js|mjs|css|svg|json|map|txt)$/i
const minBytes = 512

let files = 0
let saved = 0
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      walk(path)
      continue
    }
    if (!entry.isFile() || !compressible.test(entry.name)) continue
    const bytes = readFileSync(path)
    if (bytes.length < minBytes) continue
    const variants = [
      ['.br', brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      })],
      ['.gz', gzipSync(bytes, { level: 9 })],
    ]
    for (const [suffix, packed] of variants) {
      if (packed.length >= bytes.length) continue
      writeFileSync(path + suffix, packed)
      files += 1
      saved += bytes.length - packed.length
    }
  }
}

if (!statSync(outDir, { throwIfNoEntry: false })?.isDirectory()) {
  console.error(`precompress: ${outDir} is not a directory (run vite build first)`)
  process.exit(1)
}
walk(outDir)
console.log(`precompress: ${files} .br/.gz files in ${outDir} (${Math.round(saved / 1024)} KiB smaller)`)
