// Differential test of tkms's Boneh-Franklin IBE (tlock-compatible) against an independent
// implementation written here on @noble/curves, in both orientations: C encrypts -> JS decrypts,
// JS encrypts -> C decrypts, identical ciphertexts for the same sigma, and tampered ciphertexts
// rejected by both. The JS side follows drand's scheme description (H2 over the 576-byte GT
// encoding, H3 by counter rejection sampling, H4 pad), with GT^r computed as a GT power (the C side
// uses e(r*Q, MPK)), so the two share no structure. One tests/tools/ibe_driver process.
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from './rng.mjs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';

const BUILD = process.env.TKMS_BUILD || 'build';
const SCALE = Number(process.env.TKMS_DIFF_SCALE || 1);
const R = bls.fields.Fr.ORDER;
const Fp12 = bls.fields.Fp12;
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const big = (b) => BigInt('0x' + (hex(b) || '0'));
const enc = new TextEncoder();
const cat = (...a) => { const o = new Uint8Array(a.reduce((s, x) => s + x.length, 0)); let p = 0; for (const x of a) { o.set(x, p); p += x.length; } return o; };
const xor = (a, b) => a.map((x, i) => x ^ b[i]);
const fpBytes = (x) => unhex(x.toString(16).padStart(96, '0'));

// tlock's GT encoding: Fp12 = c1 || c0, Fp6 = c2 || c1 || c0, Fp2 = c1 || c0, Fp 48-byte BE.
function gtBytes(g) {
  const parts = [];
  for (const f6 of [g.c1, g.c0]) for (const f2 of [f6.c2, f6.c1, f6.c0]) parts.push(fpBytes(f2.c1), fpBytes(f2.c0));
  return cat(...parts);
}
const h2 = (g, n) => sha256(cat(enc.encode('IBE-H2'), gtBytes(g))).slice(0, n);
const h4 = (sigma, n) => sha256(cat(enc.encode('IBE-H4'), sigma)).slice(0, n);
function h3(sigma, msg) {
  const base = sha256(cat(enc.encode('IBE-H3'), sigma, msg));
  for (let i = 1; i < 65535; i++) {
    const d = sha256(cat(new Uint8Array([i & 0xff, i >> 8]), base));
    d[0] >>= 1;
    const n = big(d);
    if (n < R) return n;
  }
  throw new Error('h3');
}

// orientation 'g2': MPK in G2, ids/keys in G1, U in G2.  'g1': the reverse.
const O = {
  g2: { M: bls.G2, I: bls.G1, pair: (id, m) => bls.pairing(id, m), pairDec: (key, U) => bls.pairing(key, U) },
  g1: { M: bls.G1, I: bls.G2, pair: (id, m) => bls.pairing(m, id), pairDec: (key, U) => bls.pairing(U, key) },
};
function jsEncrypt(o, mpk, dst, id, msg, sigma) {
  const { M, I } = O[o];
  const Q = I.hashToCurve(id, { DST: dst });
  const gid = O[o].pair(Q, mpk);
  const r = h3(sigma, msg);
  const U = M.Point.BASE.multiply(r);
  const V = xor(sigma, h2(Fp12.pow(gid, r), msg.length));
  const W = xor(msg, h4(sigma, msg.length));
  return cat(U.toBytes(true), V, W);
}
function jsDecrypt(o, key, ct) {
  const { M } = O[o];
  const ul = o === 'g2' ? 96 : 48;
  const n = (ct.length - ul) / 2;
  if (!Number.isInteger(n) || n < 1 || n > 32) return null;
  let U;
  try { U = M.Point.fromHex(hex(ct.slice(0, ul))); U.assertValidity(); } catch { return null; }
  if (U.equals(M.Point.ZERO)) return null;
  const sigma = xor(ct.slice(ul, ul + n), h2(O[o].pairDec(key, U), n));
  const msg = xor(ct.slice(ul + n), h4(sigma, n));
  if (!M.Point.BASE.multiply(h3(sigma, msg)).equals(U)) return null;
  return msg;
}

const driver = spawn(path.join(BUILD, 'ibe_driver'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
const pending = [];
createInterface({ input: driver.stdout }).on('line', (line) => pending.shift()(JSON.parse(line)));
const call = (req) => new Promise((resolve) => { pending.push(resolve); driver.stdin.write(JSON.stringify(req) + '\n'); });

let cases = 0, failures = 0;
function check(cond, what, ctx) {
  cases++;
  if (!cond) { failures++; console.error(`FAIL ${what}: ${JSON.stringify(ctx)}`); }
}

const N = Math.max(1, Math.round(12 * SCALE));
for (const o of ['g2', 'g1']) {
  const { M, I } = O[o];
  for (let c = 0; c < N; c++) {
    let s; do { s = big(randomBytes(48)) % R; } while (s === 0n);
    const mpk = M.Point.BASE.multiply(s);
    const dst = c % 3 === 0 ? enc.encode('TKMS-V1-APP-KEY_BLS12381G1_XMD:SHA-256_SSWU_RO_') : randomBytes(randomInt(1, 60));
    const id = randomBytes(c % 2 ? 20 : 32);
    const key = I.hashToCurve(id, { DST: dst }).multiply(s);
    const n = c === 0 ? 32 : randomInt(1, 33);
    const msg = randomBytes(n), sigma = randomBytes(n);
    const ctx = { o, s: s.toString(16), dst: hex(dst), id: hex(id), msg: hex(msg), sigma: hex(sigma) };
    // same sigma -> byte-identical ciphertexts
    const jsCt = jsEncrypt(o, mpk, dst, id, msg, sigma);
    const cEnc = await call({ op: 'encrypt', orient: o, dst: hex(dst), id: hex(id), mpk: mpk.toHex(true), msg: hex(msg), sigma: hex(sigma) });
    check(cEnc.ok && cEnc.ct === hex(jsCt), 'C and JS ciphertexts equal', ctx);
    // C encrypts, JS decrypts; JS encrypts (fresh sigma), C decrypts
    const got = cEnc.ok ? jsDecrypt(o, key, unhex(cEnc.ct)) : null;
    check(got && hex(got) === hex(msg), 'JS decrypts C ciphertext', ctx);
    const jsCt2 = jsEncrypt(o, mpk, dst, id, msg, randomBytes(n));
    const cDec = await call({ op: 'decrypt', orient: o, key: key.toHex(true), ct: hex(jsCt2) });
    check(cDec.ok && cDec.msg === hex(msg), 'C decrypts JS ciphertext', ctx);
    // tampering: both reject
    const bad = jsCt2.slice();
    const pos = randomInt(0, bad.length);
    bad[pos] ^= 1 << randomInt(0, 8);
    const cBad = await call({ op: 'decrypt', orient: o, key: key.toHex(true), ct: hex(bad) });
    check(!cBad.ok, 'C rejects tampered', { ...ctx, pos });
    check(jsDecrypt(o, key, bad) === null, 'JS rejects tampered', { ...ctx, pos });
    // another identity's key: both reject
    const other = I.hashToCurve(cat(id, new Uint8Array([1])), { DST: dst }).multiply(s);
    const cOther = await call({ op: 'decrypt', orient: o, key: other.toHex(true), ct: hex(jsCt2) });
    check(!cOther.ok && jsDecrypt(o, other, jsCt2) === null, 'wrong key rejected', ctx);
  }
}
driver.stdin.end();
console.log(`ibe_diff: ${cases} checks, ${failures} failures`);
process.exit(failures ? 1 : 0);
