// The committed contracts/build/*.json (ABI and bytecode that `tkms` and the tests deploy) are
// exactly what solc-js makes of contracts/*.sol with the pinned settings of scripts/contracts.mjs.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { compile, SOLC_VERSION } from '../../scripts/contracts.mjs';
import { ROOT } from './anvil.mjs';

const built = compile();
const dir = join(ROOT, 'contracts', 'build');
const committed = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
assert.deepEqual(committed, Object.keys(built).map((n) => `${n}.json`).sort(), 'one build file per contract');
let passed = 0;
for (const [name, text] of Object.entries(built)) {
  const have = readFileSync(join(dir, `${name}.json`), 'utf8');
  assert.equal(have, text, `contracts/build/${name}.json differs from the sources: run node scripts/contracts.mjs`);
  const j = JSON.parse(have);
  assert.ok(j.compiler.startsWith(SOLC_VERSION + '+'), 'pinned compiler');
  assert.ok(j.bytecode.length > 2 && j.abi.length > 0);
  console.log(`ok ${name}: ${(j.deployedBytecode.length - 2) / 2} bytes of runtime code, ${j.abi.length} ABI entries`);
  passed++;
}
console.log(`contracts_build: ${passed} passed, 0 failed`);
