// Differential test of Fr, G1 and G2 (scalar multiplication by both the constant-time and the wNAF
// path, addition, MSM, compress/decompress round trips, strict parsing of random bytes) against
// @noble/curves on fresh random cases. Drives $TKMS_BUILD/curve_driver once for all cases.
// Seed: TKMS_TEST_SEED (printed); case count per kind: TKMS_CURVE_CASES (default 150).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { bls12_381 } from '@noble/curves/bls12-381.js';

const N = Number(process.env.TKMS_CURVE_CASES || 150);
const build = process.env.TKMS_BUILD;
if (!build) {
  console.error('TKMS_BUILD is not set');
  process.exit(2);
}
const seed = BigInt(process.env.TKMS_TEST_SEED || '0x' + randomBytes(8).toString('hex'));
console.log(`curve_diff seed: TKMS_TEST_SEED=${seed}`);

// xorshift64*: reproducible from the printed seed.
let s = seed || 1n;
const M64 = (1n << 64n) - 1n;
function next() {
  s ^= s >> 12n;
  s ^= (s << 25n) & M64;
  s ^= s >> 27n;
  return Number(((s * 0x2545f4914f6cdd1dn) & M64) >> 32n);
}
const rint = (n) => next() % n;
function bytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}
const hex = (b) => Buffer.from(b).toString('hex');
const big = (b) => BigInt('0x' + (hex(b) || '0'));
const be32 = (v) => v.toString(16).padStart(64, '0');

const Fr = bls12_381.fields.Fr;
const r = Fr.ORDER;
const G = { g1: bls12_381.G1.Point, g2: bls12_381.G2.Point };
const mod = (a, m) => ((a % m) + m) % m;

// Scalars: any 256-bit value (the C side reduces mod r), with the edges mixed in.
function scalar() {
  switch (rint(12)) {
    case 0: return 0n;
    case 1: return 1n;
    case 2: return r - 1n;
    case 3: return r;
    case 4: return r + big(bytes(8));
    case 5: return (1n << 256n) - 1n;
    case 6: return big(bytes(8)); // short
    case 7: return big(bytes(16));
    default: return big(bytes(32));
  }
}
// noble refuses to encode some representations of the identity, so encode it canonically
const enc = (g, p, c) => (p.is0() ? G[g].ZERO : p).toHex(c);
const mul = (g, p, k) => (mod(k, r) === 0n || p.is0() ? G[g].ZERO : p.multiply(mod(k, r)));
function randPoint(g) {
  const P = G[g];
  const t = rint(20);
  if (t === 0) return P.ZERO;
  if (t === 1) return P.BASE;
  return P.BASE.multiply(1n + mod(big(bytes(32)), r - 1n));
}

const cases = [];
for (const g of ['g1', 'g2']) {
  const P = G[g];
  const clen = g === 'g1' ? 48 : 96;
  for (let i = 0; i < N; i++) {
    const p = randPoint(g), k = scalar();
    const want = enc(g, mul(g, p, k), true);
    cases.push({ line: `${g}mul ${be32(k)} ${enc(g, p, true)}`, want: `${want} ${want}` });
  }
  for (let i = 0; i < N; i++) {
    const a = randPoint(g);
    const t = rint(8);
    const b = t === 0 ? a : t === 1 ? a.negate() : t === 2 ? P.ZERO : randPoint(g);
    cases.push({ line: `${g}add ${enc(g, a, true)} ${enc(g, b, true)}`, want: enc(g, a.add(b), true) });
  }
  for (let i = 0; i < N; i++) {
    // valid points: compressed and uncompressed inputs both decode to the same point
    const p = randPoint(g);
    const e = enc(g, p, rint(2) === 0);
    cases.push({ line: `${g}dec ${e}`, want: `ok ${enc(g, p, false)} ${enc(g, p, true)}` });
  }
  for (let i = 0; i < N; i++) {
    // random bytes: mostly off the curve or outside the subgroup; sometimes x >= p or bad flags
    const b = bytes(rint(4) ? clen : 2 * clen);
    if (b.length === clen) b[0] = (b[0] & 0x3f) | 0x80;
    else b[0] &= 0x1f;
    if (rint(3)) b[0] &= 0x9f; // keep flags mostly plain so the curve/subgroup paths are hit
    if (rint(2)) b[0] = (b[0] & 0xe0) | (b[0] & 0x1f) % 0x1b;
    for (let j = 48; j < b.length; j += 48) if (rint(8)) b[j] %= 0x1a; // other coordinates mostly < p
    let want;
    try {
      const p = P.fromHex(hex(b));
      want = `ok ${enc(g, p, false)} ${enc(g, p, true)}`;
    } catch {
      want = 'err';
    }
    cases.push({ line: `${g}dec ${hex(b)}`, want, prefixOnly: want === 'err' });
  }
  for (let i = 0; i < Math.max(4, N / 10); i++) {
    const n = [1, 2, 3, 8, 17, 33][rint(6)];
    let acc = P.ZERO;
    const parts = [];
    for (let j = 0; j < n; j++) {
      const p = rint(5) === 0 && j ? P.BASE : randPoint(g);
      const k = scalar();
      acc = acc.add(mul(g, p, k));
      parts.push(`${be32(k)} ${enc(g, p, true)}`);
    }
    cases.push({ line: `${g}msm ${n} ${parts.join(' ')}`, want: enc(g, acc, true) });
  }
}
for (let i = 0; i < N; i++) {
  const a = mod(scalar(), r), b = mod(scalar(), r);
  const inv = a === 0n ? 0n : Fr.inv(a);
  cases.push({
    line: `fr ${be32(a)} ${be32(b)}`,
    want: [Fr.mul(a, b), Fr.add(a, b), Fr.sub(a, b), inv].map(be32).join(' '),
  });
}

const input = cases.map((c) => c.line + '\n').join('');
const t0 = Date.now();
const res = spawnSync(join(build, 'curve_driver'), [], { input, maxBuffer: 1 << 28 });
const out = res.stdout.toString().split('\n');
let bad = 0;
for (let i = 0; i < cases.length; i++) {
  const c = cases[i];
  const got = out[i] ?? '<missing>';
  const ok = c.prefixOnly ? got.startsWith(c.want) : got === c.want;
  if (!ok) {
    if (bad++ < 10) console.error(`mismatch: ${c.line.slice(0, 200)}\n  want ${c.want}\n  got  ${got}`);
  }
}
if (res.status !== 0) console.error('curve_driver exit', res.status, res.stderr?.toString());
console.log(`curve_diff: ${cases.length} cases, ${bad} mismatches, C side ${Date.now() - t0} ms`);
process.exit(bad || res.status !== 0 ? 1 : 0);
