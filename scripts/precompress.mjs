// Writes file.gz and file.br beside every compressible file of a built app (dist/), so
// the server sends them as they are (shared/static.py) instead of compressing per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/
const MIN_BYTES = 1024 // below this the headers cost more than the saving

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else yield path
  }
}

const dist = process.argv[2]
let count = 0
for (const path of files(dist)) {
  if (!COMPRESSIBLE.test(path)) continue
  const raw = readFileSync(path)
  if (raw.length < MIN_BYTES) continue
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }))
  writeFileSync(
    `${path}.br`,
    brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  )
  count += 1
}
console.log(`precompress: ${count} files in ${dist}`)
