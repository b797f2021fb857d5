// TkmsRegistry against a real anvil: app IDs agree with today's formula (noble keccak), the
// contract's view and `tkms app create` (TKMS_BIN, when set); releases by the owner; relayed releases
// with the owner's EIP-191 signature made by `tkms app sign` (or noble without TKMS_BIN); every
// refusal reverts with its custom error. Prints the gas of each call (docs/chain.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils.js';
import { randomBytes, randomInt } from '../js/rng.mjs';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak256, toUtf8Bytes, Wallet, getAddress } from 'ethers';
import { startAnvil, fundedWallet, deploy, send, expectRevert, printGasTable } from './anvil.mjs';

const BIN = process.env.TKMS_BIN && existsSync(process.env.TKMS_BIN) ? process.env.TKMS_BIN : null;
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const dir = mkdtempSync(join(tmpdir(), 'tkms-chain-registry-'));
let passed = 0;
const ok = (what) => {
  passed++;
  console.log(`ok ${what}`);
};

function tkms(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tkms ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

// Today's formula, independently: last20(keccak256("TKMS-V1-APP" || owner || salt)).
const appIdFormula = (owner, salt) =>
  '0x' + bytesToHex(keccak_256(concatBytes(utf8ToBytes('TKMS-V1-APP'), hexToBytes(owner.slice(2)), salt)).subarray(12));

function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object')
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  return JSON.stringify(v);
}

// A canonical statement: from `tkms app statement` when the CLI is there, else written here.
function statement(app, seq, ndigests = 1) {
  const digests = Array.from({ length: ndigests }, (_, i) => 'sha256:' + String(i + 7).padStart(64, '0'));
  if (BIN) {
    const args = ['app', 'statement', '--app', app, '--seq', String(seq), '--method', 'gcp-cs', '--gcp-project', 'acme-prod'];
    for (const d of digests) args.push('--image-digest', d);
    return tkms(args);
  }
  return canonical({ app_id: app, seq, methods: ['gcp-cs'], image_digests: digests, deployments: { gcp_projects: ['acme-prod'] } });
}

const seqAt = (text) => text.indexOf(',"seq":');

function eip191(text) {
  const m = utf8ToBytes(text);
  return keccak_256(concatBytes(utf8ToBytes('\x19Ethereum Signed Message:\n' + m.length), m));
}

// The owner's signature over the statement text: `tkms app sign` (checked against noble) or noble.
function ownerSign(skHex, saltHex, text, useCli = true) {
  const rec = secp256k1.sign(eip191(text), hexToBytes(skHex), { prehash: false, format: 'recovered' });
  const noble = '0x' + bytesToHex(concatBytes(rec.subarray(1), Uint8Array.of(27 + rec[0])));
  if (!BIN || !useCli) return noble;
  const f = join(dir, `st-${Math.random()}.json`);
  writeFileSync(f, text);
  const key = join(dir, 'owner.key');
  writeFileSync(key, skHex + '\n', { mode: 0o600 });
  const out = JSON.parse(tkms(['app', 'sign', '--owner-key-file', key, '--salt', saltHex, '--statement', f]));
  assert.equal(canonical(out.statement), text, 'tkms app sign signs the same canonical text');
  assert.equal('0x' + out.signature, noble, 'tkms app sign = noble (RFC 6979, low s)');
  return noble;
}

const chain = await startAnvil();
try {
  const { provider } = chain;
  const deployer = await fundedWallet(provider);
  const reg = await deploy('TkmsRegistry', deployer);
  const ownerSk = bytesToHex(secp256k1.utils.randomSecretKey(randomBytes(48)));
  const owner = await fundedWallet(provider, '0x' + ownerSk);
  const other = await fundedWallet(provider);
  const relayer = await fundedWallet(provider);
  const salt = randomBytes(32);
  const saltHex = bytesToHex(salt);

  // ---- app ID: formula, contract view, event, CLI ----
  const formula = appIdFormula(owner.address.toLowerCase(), salt);
  const view = (await reg.appIdOf(owner.address, '0x' + saltHex)).toLowerCase();
  assert.equal(view, formula, 'appIdOf = today formula');
  if (BIN) {
    const key = join(dir, 'owner.key');
    writeFileSync(key, ownerSk + '\n', { mode: 0o600 });
    const c = JSON.parse(tkms(['app', 'create', '--owner-key-file', key, '--salt', saltHex]));
    assert.equal(c.app_id, formula, 'tkms app create = formula');
    assert.equal(c.owner, owner.address.toLowerCase());
    ok('app ID: tkms app create = contract appIdOf = keccak formula');
  } else ok('app ID: contract appIdOf = keccak formula (TKMS_BIN not set: CLI not compared)');
  const r0 = await send('createApp', reg.connect(owner).createApp('0x' + saltHex));
  const created = reg.interface.parseLog(r0.logs[0]);
  assert.equal(created.name, 'AppCreated');
  assert.equal(created.args.app.toLowerCase(), formula);
  assert.equal(created.args.owner, owner.address);
  assert.equal(created.args.salt, '0x' + saltHex);
  assert.equal(await reg.ownerOf(formula), owner.address);
  assert.equal(await reg.seqOf(formula), 0n);
  ok('createApp: AppCreated(app, owner, salt), ownerOf');
  const app = formula;
  await expectRevert(reg, 'AppExists', () => reg.connect(owner).createApp('0x' + saltHex));
  // the same salt by another owner is another app
  await send('createApp (same salt, other owner)', reg.connect(other).createApp('0x' + saltHex));
  assert.equal((await reg.ownerOf(appIdFormula(other.address.toLowerCase(), salt))), other.address);
  ok('same salt, other owner: another app');

  // ---- release by the owner ----
  const s1 = statement(app, 1);
  console.log(`statement (${s1.length} bytes): ${s1}`);
  const r1 = await send(`release (${s1.length}-byte statement, first)`, reg.connect(owner).release(toUtf8Bytes(s1), seqAt(s1)));
  const ev = reg.interface.parseLog(r1.logs[0]);
  assert.equal(ev.name, 'ReleasePublished');
  assert.equal(ev.args.app.toLowerCase(), app);
  assert.equal(ev.args.seq, 1n);
  assert.equal(ev.args.statementHash, keccak256(toUtf8Bytes(s1)));
  assert.equal(Buffer.from(hexToBytes(ev.args.statement.slice(2))).toString('utf8'), s1, 'full text in the event');
  const got = await reg.getApp(app);
  assert.deepEqual([got.owner, got.seq, got.statementHash, got.releaseBlock],
    [owner.address, 1n, keccak256(toUtf8Bytes(s1)), BigInt(r1.blockNumber)]);
  assert.equal(await reg.seqOf(app), 1n);
  assert.equal(await reg.statementHashOf(app), keccak256(toUtf8Bytes(s1)));
  assert.equal(await reg.releaseBlockOf(app), BigInt(r1.blockNumber));
  ok('release: event with full statement, views seq/hash/block');

  // what nodes will rely on: with --slots-in-an-epoch 1 the finalized block trails the head by 2
  assert.equal(await reg.seqOf(app, { blockTag: 'finalized' }), 0n, 'not final yet');
  await provider.send('anvil_mine', ['0x2']);
  assert.equal((await provider.getBlock('finalized')).number, r1.blockNumber);
  assert.equal(await reg.seqOf(app, { blockTag: 'finalized' }), 1n, 'final 2 blocks later');
  ok('the release is in the finalized view 2 blocks later');

  // ---- refusals ----
  const stale = await expectRevert(reg, 'StaleSeq', () => reg.connect(owner).release(toUtf8Bytes(s1), seqAt(s1)));
  assert.deepEqual(stale.map(String), [getAddress(app), '1', '1']);
  const s2 = statement(app, 2);
  await expectRevert(reg, 'NotOwner', () => reg.connect(other).release(toUtf8Bytes(s2), seqAt(s2)));
  await expectRevert(reg, 'StatementSeq', () => reg.connect(owner).release(toUtf8Bytes(s2), seqAt(s2) + 1));
  await expectRevert(reg, 'StatementSeq', () => reg.connect(owner).release(toUtf8Bytes(s2), 0));
  await expectRevert(reg, 'StatementAppId', () => reg.connect(owner).release(toUtf8Bytes(s2.replace(app, app.toUpperCase().replace('0X', '0x'))), seqAt(s2)));
  await expectRevert(reg, 'StatementAppId', () => reg.connect(owner).release(toUtf8Bytes(' ' + s2), seqAt(s2) + 1));
  const unknown = '0x' + bytesToHex(randomBytes(20));
  const su = statement(unknown, 1);
  await expectRevert(reg, 'UnknownApp', () => reg.connect(owner).release(toUtf8Bytes(su), seqAt(su)));
  const big = new Uint8Array(64 * 1024 + 1).fill(0x20);
  await expectRevert(reg, 'StatementTooLong', () => reg.connect(owner).release(big, 60));
  ok('refusals: stale seq, non-owner, bad seq offset, bad app_id, unknown app, too long');

  // the seq the contract reads (pure view) for edge cases of the JSON integer
  const p = (text) => reg.parseStatement(toUtf8Bytes(text), seqAt(text));
  const withSeq = (seqText) => s2.replace(',"seq":2', `,"seq":${seqText}`);
  assert.equal((await p(withSeq('9007199254740991')))[1], 9007199254740991n, '2^53-1 accepted');
  for (const bad of ['9007199254740992', '0', '02', '-1', '1.0', '1e3', '"1"', ''])
    await expectRevert(reg, 'StatementSeq', () => p(withSeq(bad)));
  assert.equal((await p(s2))[0].toLowerCase(), app);
  ok('parseStatement: seq 1..2^53-1, no leading zero, integer only');

  // ---- relayed release with the owner's EIP-191 signature ----
  assert.equal(await reg.eip191Hash(toUtf8Bytes(s2)), '0x' + bytesToHex(eip191(s2)), 'eip191Hash = noble');
  const sig2 = ownerSign(ownerSk, saltHex, s2);
  const r2 = await send(`releaseSigned (${s2.length}-byte statement, by a relayer)`,
    reg.connect(relayer).releaseSigned(toUtf8Bytes(s2), seqAt(s2), sig2));
  assert.equal(r2.from, relayer.address);
  assert.equal(await reg.seqOf(app), 2n);
  assert.equal(await reg.statementHashOf(app), keccak256(toUtf8Bytes(s2)));
  ok(`releaseSigned: a relayer publishes the owner-signed statement (signed by ${BIN ? 'tkms app sign' : 'noble'})`);
  await expectRevert(reg, 'StaleSeq', () => reg.connect(relayer).releaseSigned(toUtf8Bytes(s2), seqAt(s2), sig2));
  const s3 = statement(app, 3);
  const otherSk = bytesToHex(secp256k1.utils.randomSecretKey(randomBytes(48)));
  const foreign = ownerSign(otherSk, saltHex, s3, false); // the CLI signs only for the app's owner
  const signer = await expectRevert(reg, 'SignerNotOwner', () => reg.connect(relayer).releaseSigned(toUtf8Bytes(s3), seqAt(s3), foreign));
  assert.equal(signer[1], new Wallet('0x' + otherSk).address);
  const sig3 = ownerSign(ownerSk, saltHex, s3);
  const b = hexToBytes(sig3.slice(2));
  const sHigh = CURVE_N - BigInt('0x' + bytesToHex(b.subarray(32, 64)));
  const twin = '0x' + bytesToHex(concatBytes(b.subarray(0, 32), hexToBytes(sHigh.toString(16).padStart(64, '0')), Uint8Array.of(b[64] === 27 ? 28 : 27)));
  await expectRevert(reg, 'BadSignature', () => reg.connect(relayer).releaseSigned(toUtf8Bytes(s3), seqAt(s3), twin));
  const v29 = sig3.slice(0, -2) + '1d';
  await expectRevert(reg, 'BadSignature', () => reg.connect(relayer).releaseSigned(toUtf8Bytes(s3), seqAt(s3), v29));
  await expectRevert(reg, 'BadSignature', () => reg.connect(relayer).releaseSigned(toUtf8Bytes(s3), seqAt(s3), sig3.slice(0, -2)));
  // the signature covers the text: a signed seq-3 statement cannot be published as seq 4
  const s4 = s3.replace(',"seq":3', ',"seq":4');
  await expectRevert(reg, 'SignerNotOwner', () => reg.connect(relayer).releaseSigned(toUtf8Bytes(s4), seqAt(s4), sig3));
  ok('releaseSigned refusals: replay, foreign signer, high-s twin, v 29, short signature, altered text');

  // a later release by the owner, and a larger statement (gas scale)
  await send(`release (${s3.length}-byte statement, later)`, reg.connect(owner).release(toUtf8Bytes(s3), seqAt(s3)));
  const s5 = statement(app, 5, 16);
  await send(`release (${s5.length}-byte statement, 16 digests)`, reg.connect(owner).release(toUtf8Bytes(s5), seqAt(s5)));
  assert.equal(await reg.seqOf(app), 5n);
  ok('seq may skip values (3 -> 5), strictly increasing');

  // ---- the app ID and seq the contract reads = those of random valid statements ----
  const hex = (n) => bytesToHex(randomBytes(n));
  const pick = (k, f) => Array.from({ length: randomInt(0, k + 1) }, f);
  const salt2 = randomBytes(32);
  const app2 = appIdFormula(owner.address.toLowerCase(), salt2);
  let fullText = '';
  for (let i = 0; i < 40; i++) {
    const a = i === 39 ? app2 : '0x' + hex(20);
    const seq = [1, 9, 10, 2 ** 53 - 1, randomInt(1, 2 ** 31), randomInt(1, 2 ** 48)][i % 6];
    const full = i === 39; // every list at its limit of 16 entries
    const n = (k) => (full ? 16 : randomInt(0, k + 1));
    const o = { app_id: a, seq, methods: ['tdx', 'sev-snp', 'gcp-cs', 'insecure-dev'].filter((_, j) => full || j === 3 || randomInt(0, 2)) };
    const digests = Array.from({ length: Math.max(1, n(3)) }, () => 'sha256:' + hex(32));
    const mrtd = Array.from({ length: Math.max(1, n(2)) }, () => hex(48));
    const rtmr = [0, 1, 2].map(() => Array.from({ length: n(2) }, () => hex(48)));
    const meas = Array.from({ length: Math.max(1, n(2)) }, () => hex(48));
    const projects = Array.from({ length: Math.max(1, n(2)) }, (_, j) => `proj-${j}-${hex(3)}`);
    const accounts = Array.from({ length: n(2) }, (_, j) => `sa${j}@p-${hex(2)}.iam.gserviceaccount.com`);
    const cfg = Array.from({ length: n(2) }, () => a.slice(2) + hex(28));
    const hd = Array.from({ length: n(2) }, () => a.slice(2) + hex(12));
    let text;
    if (BIN) {
      const args = ['app', 'statement', '--app', a, '--seq', String(seq)];
      for (const m of o.methods) args.push('--method', m);
      if (o.methods.includes('gcp-cs')) {
        for (const d of digests) args.push('--image-digest', d);
        for (const p of projects) args.push('--gcp-project', p);
        for (const x of accounts) args.push('--service-account', x);
      }
      if (o.methods.includes('tdx')) {
        for (const m of mrtd) args.push('--mrtd', m);
        rtmr.forEach((l, j) => l.forEach((m) => args.push(`--rtmr${j}`, m)));
        for (const c of cfg) args.push('--tdx-mrconfigid', c);
      }
      if (o.methods.includes('sev-snp')) {
        for (const m of meas) args.push('--snp-measurement', m);
        for (const h of hd) args.push('--snp-host-data', h);
      }
      text = tkms(args);
    } else {
      if (o.methods.includes('gcp-cs')) Object.assign(o, { image_digests: digests, deployments: { gcp_projects: projects } });
      if (o.methods.includes('tdx')) o.tdx = { mrtd };
      if (o.methods.includes('sev-snp')) o.snp = { measurement: meas };
      text = canonical(o);
    }
    const parsed = JSON.parse(text);
    assert.equal(text.indexOf(',"seq":'), text.lastIndexOf(',"seq":'), 'one ,"seq": in a valid statement');
    const [ra, rs] = await reg.parseStatement(toUtf8Bytes(text), seqAt(text));
    assert.equal(ra.toLowerCase(), parsed.app_id);
    assert.equal(rs, BigInt(parsed.seq));
    if (full) fullText = text;
  }
  ok(`parseStatement = JSON parse on 40 random valid statements (${BIN ? 'tkms app statement' : 'written here'})`);
  // the one with every list full published, for the gas table (a new app: first release)
  await send('createApp', reg.connect(owner).createApp('0x' + bytesToHex(salt2)));
  await send(`release (${fullText.length}-byte statement, every list full, first)`,
    reg.connect(owner).release(toUtf8Bytes(fullText), seqAt(fullText)));
  assert.equal(await reg.statementHashOf(app2), keccak256(toUtf8Bytes(fullText)));
  printGasTable();
} finally {
  chain.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`registry: ${passed} passed, 0 failed`);
