// Shared by tests/chain/*.test.mjs: starts a private anvil (Foundry's local node, from the npm package
// @foundry-rs/anvil) on a free loopback port, gives an ethers provider and funded random wallets,
// deploys the committed contract builds, and reports gas. Exits 77 (skip) when anvil is missing.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, Network, Wallet, ContractFactory, Contract } from 'ethers';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ANVIL =
  process.env.TKMS_ANVIL || join(ROOT, 'node_modules', '@foundry-rs', 'anvil-linux-amd64', 'bin', 'anvil');
export const CHAIN_ID = 31337;

export function requireAnvil() {
  if (!existsSync(ANVIL)) {
    console.log(`SKIP: no anvil at ${ANVIL} (npm ci installs it)`);
    process.exit(77);
  }
}

// Starts anvil with --port 0 and reads the port it bound from its first lines (no port race).
export async function startAnvil(extra = []) {
  requireAnvil();
  const args = ['--host', '127.0.0.1', '--port', '0', '--slots-in-an-epoch', '1', '--chain-id', String(CHAIN_ID), ...extra];
  const proc = spawn(ANVIL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anvil did not start in 20 s:\n${log}`)), 20000);
    const onData = (d) => {
      log += d;
      const m = /Listening on ([0-9.]+):(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}:${m[2]}`);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with ${code}:\n${log}`));
    });
  });
  proc.stdout.removeAllListeners('data');
  proc.stdout.resume();
  proc.stderr.resume();
  proc.removeAllListeners('exit');
  // Without staticNetwork and cacheTimeout -1, ethers caches identical requests for 250 ms and
  // back-to-back transactions reuse a stale nonce.
  const provider = new JsonRpcProvider(url, Network.from(CHAIN_ID), { staticNetwork: true, cacheTimeout: -1 });
  const stop = () => {
    provider.destroy();
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
  process.on('exit', stop);
  return { url, provider, proc, stop };
}

export async function fundedWallet(provider, key) {
  const w = key ? new Wallet(key, provider) : Wallet.createRandom().connect(provider);
  await provider.send('anvil_setBalance', [w.address, '0x56bc75e2d63100000']); // 100 ETH
  return w;
}

// The committed build of a contract; when its source no longer matches (an edit not yet built, a
// mutant of scripts/mutation.sh) or with TKMS_CONTRACTS_FROM_SOURCE=1, a fresh compile of
// contracts/*.sol, so that the tests judge the sources. chain_contracts_build checks that the
// committed builds are up to date.
let fresh = null;
export async function build(name) {
  const j = JSON.parse(readFileSync(join(ROOT, 'contracts', 'build', `${name}.json`), 'utf8'));
  const src = readFileSync(join(ROOT, j.sourceName));
  if (process.env.TKMS_CONTRACTS_FROM_SOURCE !== '1' && createHash('sha256').update(src).digest('hex') === j.sourceSha256)
    return j;
  console.log(`${j.sourceName}: compiled from the source (it differs from contracts/build/${name}.json)`);
  fresh ??= (await import('../../scripts/contracts.mjs')).compile();
  return JSON.parse(fresh[name]);
}

export const gasTable = [];

export function logGas(what, receipt) {
  const gas = Number(receipt.gasUsed);
  gasTable.push([what, gas]);
  console.log(`gas ${what}: ${gas}`);
  return gas;
}

export async function deploy(name, signer, ...args) {
  return (await deployWithReceipt(name, signer, ...args)).contract;
}

export async function deployWithReceipt(name, signer, ...args) {
  const b = await build(name);
  const f = new ContractFactory(b.abi, b.bytecode, signer);
  const c = await f.deploy(...args);
  const receipt = await c.deploymentTransaction().wait();
  logGas(`deploy ${name}`, receipt);
  return { contract: new Contract(await c.getAddress(), b.abi, signer), receipt };
}

// Sends a transaction and waits for its receipt; logs its gas under `what`.
export async function send(what, txPromise) {
  const tx = await txPromise;
  const receipt = await tx.wait();
  if (receipt.status !== 1) throw new Error(`${what}: status ${receipt.status}`);
  logGas(what, receipt);
  return receipt;
}

// Expects the call to revert with the custom error `name` (decoded with the contract's ABI), and
// returns its arguments.
export async function expectRevert(contract, name, fn) {
  let err = null;
  try {
    const tx = await fn();
    if (tx && tx.wait) await tx.wait();
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected revert ${name}, but the call succeeded`);
  let parsed = err.revert;
  if (!parsed && err.data) parsed = contract.interface.parseError(err.data);
  if (!parsed || parsed.name !== name)
    throw new Error(`expected revert ${name}, got ${parsed ? parsed.name : err.shortMessage || err.message}`);
  console.log(`ok reverts ${name}(${parsed.args.map(String).join(', ')})`);
  return parsed.args;
}

export function printGasTable() {
  console.log('\n| call | gas |\n|---|---|');
  for (const [what, gas] of gasTable) console.log(`| ${what} | ${gas} |`);
}
