// Compiles contracts/*.sol with solc-js (the compiler inside the npm package `solc`, no download)
// and writes contracts/build/<Name>.json (ABI, creation and runtime bytecode, the source's SHA-256). `--check` recompiles
// and exits 1 if the committed build files differ (tests/chain/contracts_build.test.mjs).
//   node scripts/contracts.mjs [--check]
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import solc from 'solc';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'contracts');
const OUT = join(SRC, 'build');
export const SOLC_VERSION = '0.8.37';

// Pinned settings: the same sources give the same bytes on every machine (the metadata hash in the
// bytecode covers sources and settings, never absolute paths: source names are repository paths).
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'ipfs' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

export function compile() {
  if (!solc.version().startsWith(SOLC_VERSION + '+')) throw new Error(`solc ${solc.version()} is not ${SOLC_VERSION}`);
  const sources = {};
  for (const f of readdirSync(SRC).filter((f) => f.endsWith('.sol')).sort())
    sources[`contracts/${f}`] = { content: readFileSync(join(SRC, f), 'utf8') };
  const out = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings: SETTINGS })));
  const problems = (out.errors || []).filter((e) => e.severity === 'error' || e.type === 'Warning');
  if (problems.length) throw new Error(problems.map((e) => e.formattedMessage).join('\n'));
  const result = {};
  for (const [file, contracts] of Object.entries(out.contracts))
    for (const [name, c] of Object.entries(contracts))
      result[name] = JSON.stringify(
        {
          contractName: name,
          sourceName: file,
          sourceSha256: createHash('sha256').update(sources[file].content).digest('hex'),
          compiler: solc.version(),
          settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
          abi: c.abi,
          bytecode: '0x' + c.evm.bytecode.object,
          deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        },
        null,
        1,
      ) + '\n';
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const built = compile();
  let bad = 0;
  if (!check) mkdirSync(OUT, { recursive: true });
  const committed = new Set(check ? readdirSync(OUT).filter((f) => f.endsWith('.json')) : []);
  for (const [name, text] of Object.entries(built)) {
    const path = join(OUT, `${name}.json`);
    if (check) {
      committed.delete(`${name}.json`);
      let have = null;
      try {
        have = readFileSync(path, 'utf8');
      } catch {}
      if (have !== text) {
        console.error(`contracts/build/${name}.json differs from the sources: run node scripts/contracts.mjs`);
        bad = 1;
      } else console.log(`ok contracts/build/${name}.json`);
    } else {
      writeFileSync(path, text);
      console.log(`wrote contracts/build/${name}.json (${(text.length / 1024).toFixed(1)} KiB)`);
    }
  }
  for (const f of committed) {
    console.error(`contracts/build/${f} has no source contract`);
    bad = 1;
  }
  process.exit(bad);
}
