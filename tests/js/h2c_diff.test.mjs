// Differential test of hash_to_curve / encode_to_curve (RFC 9380, G1 and G2) against
// @noble/curves on fresh random (msg, DST) pairs, including DSTs longer than 255 bytes.
// Drives $TKMS_BUILD/h2c_driver once for all cases. Seed: TKMS_TEST_SEED (printed).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { bls12_381 } from '@noble/curves/bls12-381.js';

const N = Number(process.env.TKMS_H2C_CASES || 1000); // per (group, mode)
const build = process.env.TKMS_BUILD;
if (!build) {
  console.error('TKMS_BUILD is not set');
  process.exit(2);
}
const seed = BigInt(process.env.TKMS_TEST_SEED || '0x' + randomBytes(8).toString('hex'));
console.log(`h2c_diff seed: TKMS_TEST_SEED=${seed}`);

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

// Lengths concentrate on the SHA-256 block and padding edges and on the 255-byte DST limit.
const MSG_EDGES = [0, 1, 31, 32, 33, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 255, 256];
const DST_EDGES = [1, 16, 31, 32, 33, 43, 63, 64, 65, 254, 255, 256, 257, 300, 511, 1000];
function msgLen() {
  return rint(3) === 0 ? MSG_EDGES[rint(MSG_EDGES.length)] : rint(400);
}
function dstLen() {
  const r = rint(10);
  if (r < 3) return DST_EDGES[rint(DST_EDGES.length)];
  if (r < 5) return 256 + rint(600); // oversize: hashed with "H2C-OVERSIZE-DST-"
  return 1 + rint(255);
}

const cases = [];
for (const g of ['g1', 'g2'])
  for (const mode of ['ro', 'nu'])
    for (let i = 0; i < N; i++) cases.push({ g, mode, msg: bytes(msgLen()), dst: bytes(dstLen()) });

const input = cases.map((c) => `${c.g} ${c.mode} ${hex(c.msg) || '-'} ${hex(c.dst)}\n`).join('');
const t0 = Date.now();
const res = spawnSync(join(build, 'h2c_driver'), [], { input, maxBuffer: 1 << 28 });
if (res.status !== 0) {
  console.error('h2c_driver failed', res.status, res.stderr?.toString());
  process.exit(1);
}
const tC = Date.now() - t0;
const lines = res.stdout.toString().trim().split('\n');
if (lines.length !== cases.length) {
  console.error(`driver answered ${lines.length} lines for ${cases.length} cases`);
  process.exit(1);
}

let fails = 0, long = 0;
for (let i = 0; i < cases.length; i++) {
  const c = cases[i];
  const G = c.g === 'g1' ? bls12_381.G1 : bls12_381.G2;
  const f = c.mode === 'ro' ? G.hashToCurve : G.encodeToCurve;
  const want = f(c.msg, { DST: c.dst }).toHex(true);
  if (c.dst.length > 255) long++;
  if (lines[i] !== want) {
    if (fails++ < 5)
      console.error(`MISMATCH ${c.g} ${c.mode} msg=${hex(c.msg)} dst=${hex(c.dst)}\n  tkms  ${lines[i]}\n  noble ${want}`);
  }
}
console.log(`h2c_diff: ${cases.length} cases (${N} per group and mode, ${long} with DST > 255 bytes), ` +
  `${fails} mismatches; C driver ${tC} ms, noble ${Date.now() - t0 - tC} ms`);
if (long === 0) {
  console.error('no oversize DST was generated');
  process.exit(1);
}
process.exit(fails ? 1 : 0);
