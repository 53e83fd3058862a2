// Starts @20minutes/s3rver with the command-line arguments, as its own bin would: version 5.0.0 declares
// "bin": "bin/s3rver.js" but does not ship that file, so its CLI module is called here.
//
// One fix to s3rver first: it checks a SigV4 signature against the path "/bucket" when the request was for
// "/bucket/" (a listing, as the AWS SDK for .NET sends it path-style), so it refuses every signed listing
// (SignatureDoesNotMatch) that Amazon S3 accepts. Its authentication module is loaded here with the trailing slash
// kept in the path it signs; the change is checked to apply, so a new version of s3rver fails loudly here.
const fs = require('fs')
const Module = require('module')
const path = require('path')

const file = require.resolve('@20minutes/s3rver/lib/middleware/authentication.js')
const original = fs.readFileSync(file, 'utf8')
const unfixed = 'if (ctx.params.key) {\n        canonicalizedResource += `/${ctx.params.key}`\n      }'
if (!original.includes(unfixed)) {
  console.error(`s3rver's ${file} changed: the trailing-slash fix in start.js no longer applies`)
  process.exit(1)
}
const fixed = new Module(file, module)
fixed.filename = file
fixed.paths = Module._nodeModulePaths(path.dirname(file))
fixed._compile(
  original.replace(unfixed, unfixed + " else if (ctx.path.endsWith('/')) {\n        canonicalizedResource += '/'\n      }"),
  file,
)
fixed.loaded = true
require.cache[file] = fixed

require('@20minutes/s3rver/lib/cli.js').parseAsync(process.argv).catch((error) => {
  console.error(error)
  process.exit(1)
})
