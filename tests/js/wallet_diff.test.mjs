// Differential test against @scure/bip39, @scure/bip32, micro-key-producer (SLIP-0010), @noble/hashes
// and @noble/curves on >= 500 random mnemonics and paths per run, for every chain. Every case goes
// through the library in one long-lived helper process (test_wallet_oracle serve: one PBKDF2 per
// mnemonic, no process start-up per answer), and the first CLI_N cases also through the tkms binary
// itself, one process per command. The pure-JS references dominate the run time, so the cases are
// split over worker threads; each thread feeds its commands to its own bash worker as it goes.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { randomBytes, randomInt, random, reseed } from './rng.mjs';
import { entropyToMnemonic, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { HDKey } from '@scure/bip32';
import { HDKey as Slip10 } from 'micro-key-producer/slip10.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { bytesToHex, utf8ToBytes, concatBytes } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { base58, bech32, createBase58check } from '@scure/base';

const BIN = process.env.TKMS_BIN;
const BUILD = process.env.TKMS_BUILD || '.';
const N = Number(process.env.TKMS_DIFF_N || 500);
const ORACLE = join(BUILD, 'test_wallet_oracle');
const CLI_N = Math.min(N, Number(process.env.TKMS_DIFF_CLI_N || 150));

// ---- reference implementations (npm only) ----
function eip55(addr20) {
  const hex = bytesToHex(addr20);
  const h = bytesToHex(keccak_256(utf8ToBytes(hex)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(h[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i];
  return out;
}
const ethAddr = (priv) => eip55(keccak_256(secp256k1.getPublicKey(priv, false).slice(1)).slice(-20));
const hash160 = (b) => ripemd160(sha256(b));
const btcAddr = (pub33) => bech32.encode('bc', [0, ...bech32.toWords(hash160(pub33))]);
const wif = (priv) => createBase58check(sha256).encode(concatBytes(Uint8Array.of(0x80), priv, Uint8Array.of(1)));
const SALT = utf8ToBytes('TKMS-V1');
const be32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const lp = (b) => concatBytes(be32(b.length), b);
const P256_N = BigInt(p256.Point.CURVE().n);

const rndIndex = () => (random() < 0.5 ? randomInt(0, 20) : randomInt(0, 2 ** 31 - 1));
function rndPath(depth, hardenedOnly) {
  let p = 'm';
  for (let i = 0; i < depth; i++) p += '/' + rndIndex() + (hardenedOnly || random() < 0.5 ? "'" : '');
  return p;
}
const ASCII = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
const rndPass = () =>
  random() < 0.5 ? '' : Array.from({ length: randomInt(1, 24) }, () => ASCII[randomInt(0, ASCII.length)]).join('');

// ---- process plumbing ----
const q = (a) => "'" + String(a).replace(/'/g, "'\\''") + "'";
// A bash that runs one tkms command per line read on stdin and prints one line per command.
function bashWorker() {
  const p = spawn('bash', ['-s'], { env: { ...process.env, T: BIN }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const done = new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out.trimEnd().split('\n')) : reject(new Error(`bash exit ${code}`))));
  });
  return {
    send: (args) => p.stdin.write(`"$T" ${args.map(q).join(' ')} </dev/null 2>/dev/null || echo "ERR $?"\n`),
    finish: () => (p.stdin.end(), done),
  };
}
function runOracle(lines) {
  return new Promise((resolve, reject) => {
    const p = spawn(ORACLE, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out.trimEnd().split('\n')) : reject(new Error(`oracle exit ${code}`))));
    p.stdin.end(lines.join('\n') + '\n');
  });
}
const yieldNow = () => new Promise((r) => setImmediate(r)); // lets queued stdin writes go out

// Runs cases [from, to): returns { what: count } after checking every answer.
async function runSlice(from, to, dir) {
  const counts = {};
  const check = (what, got, want, ctx) => {
    counts[what] = (counts[what] || 0) + 1;
    assert.equal(got, want, `${what} mismatch for ${ctx}`);
  };
  const bw = bashWorker();
  const jobs = [];
  const job = (what, args, want, ctx) => {
    jobs.push({ what, want, ctx });
    bw.send(args);
  };
  const olines = [], owant = [], owhat = [];
  const oracle = (what, line, want) => (olines.push(line), owant.push(want), owhat.push(what));

  for (let i = from; i < to; i++) {
    reseed('case ' + i); /* a case's inputs depend on the seed and i only, not on the thread count */
    const mnemonic = entropyToMnemonic(randomBytes([16, 20, 24, 28, 32][i % 5]), wordlist);
    const pass = rndPass();
    const mf = join(dir, `m${i}`), pf = join(dir, `p${i}`);
    writeFileSync(mf, mnemonic + '\n', { mode: 0o600 });
    writeFileSync(pf, pass, { mode: 0o600 });
    const seed = mnemonicToSeedSync(mnemonic, pass);
    const root = HDKey.fromMasterSeed(seed), ed = Slip10.fromMasterSeed(seed);
    const base = ['--mnemonic-file', mf, '--passphrase-file', pf];
    const ctx = `mnemonic #${i} (${mnemonic.split(' ').length} words, passphrase ${JSON.stringify(pass)})`;
    const ethI = rndIndex(), solI = rndIndex(), btcI = rndIndex();
    const bipPath = rndPath(randomInt(0, 6), false), edPath = rndPath(randomInt(1, 6), true);

    const e = root.derive(`m/44'/60'/0'/0/${ethI}`);
    const s = ed.derive(`m/44'/501'/${solI}'/0'`);
    const b = root.derive(`m/84'/0'/0'/0/${btcI}`);
    const k = root.derive(bipPath);
    const d = ed.derive(edPath);
    const hex = (str) => (str.length ? bytesToHex(utf8ToBytes(str)) : '-');
    oracle('lib seed', `mnemonic ${hex(mnemonic)} ${hex(pass)}`, bytesToHex(seed));
    oracle('lib eth', `eth ${ethI}`, `${ethAddr(e.privateKey)} ${bytesToHex(e.privateKey)}`);
    oracle('lib sol', `sol ${solI}`, `${base58.encode(s.publicKeyRaw)} ${bytesToHex(s.privateKey)}`);
    oracle('lib btc', `btc ${btcI}`, `${btcAddr(b.publicKey)} ${wif(b.privateKey)}`);
    oracle('lib bip32 xpub+xprv', `bip32 ${bipPath}`, `${k.publicExtendedKey} ${k.privateExtendedKey}`);
    oracle('lib slip10', `slip10 ${edPath}`, `${bytesToHex(d.publicKeyRaw)} ${bytesToHex(d.privateKey)}`);
    // words <-> entropy through the binary (cheap: no PBKDF2)
    const ent = randomBytes([16, 20, 24, 28, 32][randomInt(0, 5)]);
    job('from-entropy', ['mnemonic', 'from-entropy', '--entropy', bytesToHex(ent)], entropyToMnemonic(ent, wordlist), ctx);
    if (i < CLI_N) {
      job('eth', ['derive', 'eth', ...base, '--index', ethI], ethAddr(e.privateKey), ctx);
      job('sol', ['derive', 'sol', ...base, '--index', solI], base58.encode(s.publicKeyRaw), ctx);
      job('btc', ['derive', 'btc', ...base, '--index', btcI], btcAddr(b.publicKey), ctx);
      job('bip32 xpub', ['derive', 'bip32', ...base, '--path', bipPath], k.publicExtendedKey, `${ctx} ${bipPath}`);
      job('bip32 xprv', ['derive', 'bip32', '--private', ...base, '--path', bipPath], k.privateExtendedKey, `${ctx} ${bipPath}`);
      job('slip10', ['derive', 'slip10', ...base, '--path', edPath], bytesToHex(d.publicKeyRaw), `${ctx} ${edPath}`);
      if (i % 3 === 0) job('seed', ['derive', 'seed', ...base], bytesToHex(seed), ctx);
    }
    if (i < CLI_N && i % 5 === 0) {
      const label = random().toString(36).slice(2);
      job('data-key', ['derive', 'data-key', ...base, '--label', label],
        bytesToHex(hkdf(sha256, seed, SALT, concatBytes(lp(utf8ToBytes('data')), lp(utf8ToBytes(label))), 32)), ctx);
      job('eth --private', ['derive', 'eth', '--private', ...base, '--index', ethI], bytesToHex(e.privateKey), ctx);
      job('btc --private', ['derive', 'btc', '--private', ...base, '--index', btcI], wif(b.privateKey), ctx);
      job('slip10 --private', ['derive', 'slip10', '--private', ...base, '--path', edPath], bytesToHex(d.privateKey), ctx);
      job('sol --private', ['derive', 'sol', '--private', ...base, '--index', solI],
        base58.encode(concatBytes(s.privateKey, s.publicKeyRaw)), ctx);
    }

    // library calls without a CLI command, through the oracle helper
    const msg = randomBytes(i < 300 ? i : randomInt(0, 2000)); // every length around the 136-byte rate
    oracle('keccak', `keccak ${msg.length ? bytesToHex(msg) : '-'}`, bytesToHex(keccak_256(msg)));
    const acct = k.depth > 0 && !k.privateKey ? k : root.derive(rndPath(randomInt(1, 4), true));
    const rel = Array.from({ length: randomInt(1, 5) }, () => String(rndIndex())).join('/');
    oracle('xpub derive', `xpub ${acct.publicExtendedKey} ${rel}`,
      HDKey.fromExtendedKey(acct.publicExtendedKey).derive('m/' + rel).publicExtendedKey);
    if (i % 2 === 0) {
      const ak = bls12_381.G1.Point.BASE.multiply(BigInt('0x' + bytesToHex(randomBytes(31))) + 1n).toBytes(true);
      oracle('app-key mnemonic', `appkey ${bytesToHex(ak)}`,
        entropyToMnemonic(hkdf(sha256, ak, SALT, utf8ToBytes('bip39-entropy'), 32), wordlist));
    }
    // labels are C strings (argv in the CLI), so no NUL bytes
    const label = Uint8Array.from(randomBytes(randomInt(0, 40)), (x) => x || 1);
    oracle('data key', `datakey ${bytesToHex(seed)} ${label.length ? bytesToHex(label) : '-'}`,
      bytesToHex(hkdf(sha256, seed, SALT, concatBytes(lp(utf8ToBytes('data')), lp(label)), 32)));
    const dom = `h${i}.${random().toString(36).slice(2, 8)}.example`;
    let sc;
    for (let ctr = 0; ; ctr++) {
      sc = hkdf(sha256, seed, SALT, concatBytes(lp(utf8ToBytes('tls')), lp(utf8ToBytes(dom)), be32(ctr)), 32);
      const v = BigInt('0x' + bytesToHex(sc));
      if (v > 0n && v < P256_N) break;
    }
    oracle('tls scalar', `tls ${bytesToHex(seed)} ${dom}`, bytesToHex(sc));
    await yieldNow();
  }
  const [out, oout] = await Promise.all([bw.finish(), runOracle(olines)]);
  assert.equal(out.length, jobs.length, 'one output line per command');
  jobs.forEach((j, n) => check(j.what, out[n], j.want, j.ctx));
  assert.equal(oout.length, olines.length, 'one oracle line per request');
  oout.forEach((g, n) => check(owhat[n], g, owant[n], olines[n].slice(0, 120)));
  return counts;
}

if (isMainThread) {
  assert.ok(BIN && existsSync(BIN), 'TKMS_BIN must point at the tkms binary');
  assert.ok(existsSync(ORACLE), `helper ${ORACLE} not built`);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tkms-diff-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const T = Math.max(2, cpus().length);
  const results = await Promise.all(
    Array.from({ length: T }, (_, t) => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { from: Math.floor((N * t) / T), to: Math.floor((N * (t + 1)) / T), dir },
      });
      w.on('message', resolve);
      w.on('error', reject);
      w.on('exit', (code) => code !== 0 && reject(new Error(`worker exit ${code}`)));
    })),
  );
  const counts = {};
  for (const r of results) for (const [k, v] of Object.entries(r)) counts[k] = (counts[k] || 0) + v;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`wallet differential: ${N} random mnemonics (${T} threads, ${secs} s): ` +
    Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', '));
  for (const k of ['from-entropy', 'lib seed', 'lib eth', 'lib sol', 'lib btc', 'lib bip32 xpub+xprv', 'lib slip10',
    'keccak', 'xpub derive', 'data key', 'tls scalar'])
    assert.ok(counts[k] >= N, `${k}: only ${counts[k]} comparisons`);
  for (const k of ['eth', 'sol', 'btc', 'bip32 xpub', 'bip32 xprv', 'slip10'])
    assert.ok(counts[k] >= CLI_N, `tkms derive ${k}: only ${counts[k]} comparisons`);
  for (const k of ['seed', 'app-key mnemonic', 'data-key', 'eth --private', 'btc --private', 'sol --private', 'slip10 --private'])
    assert.ok(counts[k] > 0, `${k}: no comparisons`);
} else {
  parentPort.postMessage(await runSlice(workerData.from, workerData.to, workerData.dir));
}
