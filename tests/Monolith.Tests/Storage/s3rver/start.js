// Starts @20minutes/s3rver with the command-line arguments, as its own bin would: version 5.0.0 declares
// "bin": "bin/s3rver.js" but does not ship that file, so its CLI module is called here.
require('@20minutes/s3rver/lib/cli.js').parseAsync(process.argv).catch((error) => {
  console.error(error)
  process.exit(1)
})
