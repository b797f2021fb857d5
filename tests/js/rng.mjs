// Reproducible randomness for the differential tests. One seed per run: TKMS_TEST_SEED if set,
// otherwise fresh; printed when the test starts and again if it fails, so that any failing run can be
// replayed exactly with TKMS_TEST_SEED=<seed>. The stream is SHA-256(seed || label || counter); a
// test that splits its cases over worker threads calls reseed('case ' + i) per case, so that a case
// does not depend on the thread count. The API follows node:crypto's randomBytes / randomInt, plus
// random() in place of Math.random.
import { createHash, randomBytes as osRandomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { isMainThread } from 'node:worker_threads';

if (!process.env.TKMS_TEST_SEED) process.env.TKMS_TEST_SEED = BigInt('0x' + osRandomBytes(8).toString('hex')).toString();
export const seed = BigInt(process.env.TKMS_TEST_SEED); // workers inherit process.env
const name = basename(process.argv[1] || 'test');

if (isMainThread) {
  console.log(`${name}: TKMS_TEST_SEED=${seed}`);
  process.on('exit', (code) => {
    if (code !== 0) console.error(`${name} failed; replay with TKMS_TEST_SEED=${seed}`);
  });
}

let label = '';
let counter = 0;
let pool = Buffer.alloc(0);

/* Restarts the stream for a label (e.g. one case of a test split over threads). */
export function reseed(l) {
  label = String(l);
  counter = 0;
  pool = Buffer.alloc(0);
}

function refill(n) {
  const parts = [pool];
  let have = pool.length;
  while (have < n) {
    const h = createHash('sha256').update(`${seed}\0${label}\0${counter++}`).digest();
    parts.push(h);
    have += h.length;
  }
  pool = Buffer.concat(parts);
}

export function randomBytes(n) {
  refill(n);
  const out = Buffer.from(pool.subarray(0, n));
  pool = pool.subarray(n);
  return out;
}

/* randomInt(max) or randomInt(min, max): an integer in [min, max), uniform (rejection sampling). */
export function randomInt(a, b) {
  const [min, max] = b === undefined ? [0, a] : [a, b];
  const range = max - min;
  if (!Number.isSafeInteger(range) || range <= 0 || range > 2 ** 48) throw new RangeError('randomInt range');
  const lim = Math.floor(2 ** 48 / range) * range;
  for (;;) {
    const v = randomBytes(6).readUIntBE(0, 6);
    if (v < lim) return min + (v % range);
  }
}

/* A float in [0, 1) with 53 random bits. */
export function random() {
  const b = randomBytes(7);
  return ((b.readUIntBE(0, 6) * 32) + (b[6] >>> 3)) / 2 ** 53;
}
