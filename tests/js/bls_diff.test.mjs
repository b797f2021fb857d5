// Differential test of the BLS layer against @noble/curves (an independent implementation) on fresh
// random inputs each run: KeyGen and SkToPk, sign/verify in both variants with random DSTs,
// tampered-signature rejection, scalar multiplication, addition, hash/encode to G1/G2, pairing
// bilinearity, compress/decompress round trips and rejection of random encodings. One
// tests/tools/bls_driver process answers JSON lines; a failing case is printed in full.
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from './rng.mjs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const BUILD = process.env.TKMS_BUILD || 'build';
const SCALE = Number(process.env.TKMS_DIFF_SCALE || 1);
const R = bls.fields.Fr.ORDER;
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const big = (b) => BigInt('0x' + (hex(b) || '0'));
const be32 = (n) => unhex(n.toString(16).padStart(64, '0'));
const randScalar = () => big(randomBytes(48)) % R; // uniform enough, may be 0 (rarely)
const randNonZero = () => { for (;;) { const k = randScalar(); if (k !== 0n) return k; } };

// ---- one driver process, requests answered in order ----
const driver = spawn(path.resolve(BUILD, 'bls_driver'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
const pending = [];
createInterface({ input: driver.stdout }).on('line', (line) => pending.shift()(JSON.parse(line)));
driver.on('exit', (code) => { if (pending.length) { console.error(`driver exited (${code})`); process.exit(1); } });
const call = (req) => new Promise((resolve) => { pending.push(resolve); driver.stdin.write(JSON.stringify(req) + '\n'); });

let cases = 0, failures = 0;
function check(cond, what, ctx) {
  cases++;
  if (!cond) {
    failures++;
    console.error(`FAIL ${what}: ${JSON.stringify(ctx, (k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  }
}

// draft-irtf-cfrg-bls-signature-05 §2.3 KeyGen, written here from the spec (noble has no KeyGen).
function keygen(ikm, info) {
  let salt = new TextEncoder().encode('BLS-SIG-KEYGEN-SALT-');
  for (;;) {
    salt = sha256(salt);
    const okm = hkdf(sha256, new Uint8Array([...ikm, 0]), salt, new Uint8Array([...info, 0, 48]), 48);
    const sk = big(okm) % R;
    if (sk !== 0n) return sk;
  }
}

const VARIANTS = {
  'min-sig': { S: bls.shortSignatures, pkG: bls.G2, sigG: bls.G1, sigLen: 48, pkLen: 96 },
  'min-pk': { S: bls.longSignatures, pkG: bls.G1, sigG: bls.G2, sigLen: 96, pkLen: 48 },
};
const randDst = () => {
  const n = randomInt(0, 10) === 0 ? randomInt(256, 300) : randomInt(1, 80); // sometimes oversize
  return randomBytes(n);
};
const randMsg = () => randomBytes(randomInt(0, 5) === 0 ? 0 : randomInt(1, 200));

async function testKeygen(n) {
  for (let i = 0; i < n; i++) {
    const variant = i % 2 ? 'min-pk' : 'min-sig';
    const { S } = VARIANTS[variant];
    const ikm = randomBytes(randomInt(32, 80)), info = randomBytes(randomInt(0, 3) ? 0 : randomInt(1, 40));
    const got = await call({ op: 'keygen', variant, ikm: hex(ikm), info: hex(info) });
    const sk = keygen(ikm, info);
    const want = { sk: sk.toString(16).padStart(64, '0'), pk: S.getPublicKey(be32(sk)).toHex(true) };
    check(got.sk === want.sk && got.pk === want.pk, 'keygen/sk_to_pk', { variant, ikm: hex(ikm), info: hex(info), got, want });
  }
  const short = await call({ op: 'keygen', variant: 'min-sig', ikm: hex(randomBytes(31)), info: '' });
  check(short.error === 'ikm', 'keygen rejects IKM < 32 bytes', short);
}

async function testSignVerify(n) {
  for (let i = 0; i < n; i++) {
    const variant = i % 2 ? 'min-pk' : 'min-sig';
    const { S, sigLen } = VARIANTS[variant];
    const sk = be32(randNonZero()), msg = randMsg(), dst = randDst();
    const got = await call({ op: 'sign', variant, sk: hex(sk), msg: hex(msg), dst: hex(dst) });
    const h = S.hash(msg, dst);
    const sig = S.sign(h, sk), pk = S.getPublicKey(sk);
    const want = S.Signature.toHex(sig);
    const ctx = { variant, sk: hex(sk), msg: hex(msg), dst: hex(dst), got, want };
    check(got.sig === want && got.pk === enc(pk, true), 'sign', ctx);
    check(S.verify(unhex(got.sig), h, pk), 'noble verifies tkms signature', ctx);
    const v = await call({ op: 'verify', variant, pk: enc(pk, true), msg: hex(msg), dst: hex(dst), sig: want });
    check(v.ok === true, 'tkms verifies noble signature', ctx);
    // tampering: a flipped bit, another message, another DST, another key
    const bad = unhex(want);
    const bit = randomInt(0, sigLen * 8);
    bad[bit >> 3] ^= 1 << (bit & 7);
    let nobleOk;
    try { nobleOk = S.verify(bad, h, pk); } catch { nobleOk = false; }
    const t = await call({ op: 'verify', variant, pk: enc(pk, true), msg: hex(msg), dst: hex(dst), sig: hex(bad) });
    check(t.ok === false && nobleOk === false, 'tampered signature rejected', { ...ctx, bad: hex(bad) });
    const msg2 = Buffer.concat([msg, Buffer.from([randomInt(0, 256)])]);
    const t2 = await call({ op: 'verify', variant, pk: enc(pk, true), msg: hex(msg2), dst: hex(dst), sig: want });
    check(t2.ok === false, 'other message rejected', ctx);
    const dst2 = Buffer.concat([dst, Buffer.from('x')]);
    const t3 = await call({ op: 'verify', variant, pk: enc(pk, true), msg: hex(msg), dst: hex(dst2), sig: want });
    check(t3.ok === false, 'other DST rejected', ctx);
    const pk2 = S.getPublicKey(be32(randNonZero())).toHex(true);
    const t4 = await call({ op: 'verify', variant, pk: pk2, msg: hex(msg), dst: hex(dst), sig: want });
    check(t4.ok === false, 'other key rejected', ctx);
  }
}

const groups = { g1: bls.G1, g2: bls.G2 };
// noble refuses to encode the identity in some paths; ZCash infinity is 0xc0 || 0...
const enc = (P, compressed = true) => {
  const len = P instanceof bls.G1.Point ? 48 : 96;
  if (!P.is0()) return P.toHex(compressed);
  return (compressed ? 'c0' : '40') + '00'.repeat((compressed ? len : 2 * len) - 1);
};
const randPoint = (G) => G.Point.BASE.multiply(randNonZero());

async function testScalarMulAdd(n) {
  for (let i = 0; i < n; i++) {
    const g = i % 2 ? 'g2' : 'g1', G = groups[g];
    const P = randomInt(0, 8) === 0 ? G.Point.BASE : randPoint(G);
    // any 256-bit scalar (reduced mod r inside g*_mul), with edge values now and then
    const edge = [0n, 1n, R - 1n, R, R + 1n, (1n << 256n) - 1n];
    const k = randomInt(0, 8) === 0 ? edge[randomInt(0, edge.length)] : big(randomBytes(32));
    const got = await call({ op: `${g}_mul`, p: enc(P, true), k: k.toString(16).padStart(64, '0') });
    const km = k % R;
    const want = enc(km === 0n ? G.Point.ZERO : P.multiply(km), true);
    check(got.r === want, `${g}_mul`, { P: enc(P, true), k, got, want });
    const Q = [randPoint(G), P, P.negate(), G.Point.ZERO][randomInt(0, 4)];
    const a = await call({ op: `${g}_add`, a: enc(P, true), b: enc(Q, true) });
    check(a.r === enc(P.add(Q), true), `${g}_add`, { P: enc(P, true), Q: enc(Q, true), a });
  }
}

async function testHashToCurve(n) {
  for (let i = 0; i < n; i++) {
    const g = i % 2 ? 'g2' : 'g1', G = groups[g], encode = randomInt(0, 2) === 1;
    const msg = randMsg(), dst = randDst();
    const got = await call({ op: 'h2c', group: g, msg: hex(msg), dst: hex(dst), encode });
    const want = (encode ? G.encodeToCurve(msg, { DST: dst }) : G.hashToCurve(msg, { DST: dst })).toHex(true);
    check(got.p === want, `${encode ? 'encode' : 'hash'}_to_${g}`, { msg: hex(msg), dst: hex(dst), got, want });
  }
}

async function testBilinearity(n) {
  for (let i = 0; i < n; i++) {
    const a = randNonZero(), b = randNonZero();
    const P = randPoint(bls.G1), Q = randPoint(bls.G2);
    const aP = P.multiply(a), bQ = Q.multiply(b), ab = (a * b) % R;
    const negabP = ab === 0n ? bls.G1.Point.ZERO : P.multiply(ab).negate();
    // e(aP, bQ) * e(-(ab)P, Q) == 1  <=>  e(aP, bQ) == e(P, Q)^(ab)
    const ok = await call({ op: 'pairing_check', g1: [enc(aP, true), enc(negabP, true)], g2: [enc(bQ, true), enc(Q, true)] });
    check(ok.ok === true, 'bilinearity', { P: enc(P, true), Q: enc(Q, true), a, b });
    const off = P.multiply((ab + 1n) % R || 1n).negate();
    const bad = await call({ op: 'pairing_check', g1: [enc(aP, true), enc(off, true)], g2: [enc(bQ, true), enc(Q, true)] });
    check(bad.ok === false, 'bilinearity negative', { a, b });
    // the same equation from the noble side, on the pairing values themselves
    if (i < 8) {
      const Fp12 = bls.fields.Fp12;
      check(Fp12.eql(bls.pairing(aP, bQ), Fp12.pow(bls.pairing(P, Q), ab)), 'noble bilinearity (sanity)', { a, b });
    }
  }
}

async function testCodec(n) {
  for (let i = 0; i < n; i++) {
    const g = i % 2 ? 'g2' : 'g1', G = groups[g], len = g === 'g1' ? 48 : 96;
    const P = randomInt(0, 16) === 0 ? G.Point.ZERO : randPoint(G);
    const useUnc = randomInt(0, 2) === 1;
    const got = await call({ op: 'decompress', group: g, bytes: enc(P, !useUnc) });
    check(got.ok && got.compressed === enc(P, true) && got.uncompressed === enc(P, false), `${g} codec round trip`,
      { P: enc(P, true), got });
    // random encodings: flags set, x random; tkms and noble must agree on accept/reject
    const b = randomBytes(useUnc ? 2 * len : len);
    b[0] = (b[0] & 0x1f) | ([0x80, 0xa0, 0xc0, 0xe0, 0x00, 0x40][randomInt(0, 6)] & (useUnc ? 0x7f : 0xff));
    if (randomInt(0, 4) === 0) b[0] &= 0x80 | 0x20 | 0x01; // small x: more often on the curve, below p
    let nobleOk = true, nobleHex = null;
    try { const Q = G.Point.fromHex(hex(b)); Q.assertValidity(); nobleHex = enc(Q, true); } catch { nobleOk = false; }
    const t = await call({ op: 'decompress', group: g, bytes: hex(b) });
    check(t.ok === nobleOk && (!nobleOk || t.compressed === nobleHex), `${g} random encoding agrees with noble`,
      { bytes: hex(b), tkms: t, nobleOk });
  }
  // points on the curve but outside the subgroup are rejected (x found by search, noble-checked)
  for (const g of ['g1', 'g2']) {
    const G = groups[g];
    let found = 0;
    for (let x = 1n; found < 3 && x < 200n; x++) {
      const len = g === 'g1' ? 48 : 96;
      const b = unhex((g === 'g1' ? x.toString(16).padStart(96, '0') : x.toString(16).padStart(192, '0')));
      b[0] |= 0x80;
      let onCurveNotSub = false;
      try { G.Point.fromHex(hex(b)); } catch (e) { onCurveNotSub = /subgroup|torsion/i.test(String(e.message)); }
      if (!onCurveNotSub) continue;
      found++;
      const t = await call({ op: 'decompress', group: g, bytes: hex(b) });
      check(t.ok === false && t.status === 5, `${g} non-subgroup point rejected`, { bytes: hex(b), t, len });
    }
    check(found === 3, `${g}: found non-subgroup points to try`, { found });
  }
}

const t0 = Date.now();
await testKeygen(Math.ceil(150 * SCALE));
await testSignVerify(Math.ceil(300 * SCALE));
await testScalarMulAdd(Math.ceil(200 * SCALE));
await testHashToCurve(Math.ceil(200 * SCALE));
await testBilinearity(Math.ceil(60 * SCALE));
await testCodec(Math.ceil(300 * SCALE));
driver.stdin.end();
console.log(`bls_diff: ${cases} checks, ${failures} failures (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exit(failures || cases < 1000 ? 1 : 0);
