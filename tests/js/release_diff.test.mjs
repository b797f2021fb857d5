// Differential test of the app registry's owner side against @noble/curves secp256k1 and
// @noble/hashes keccak: app ID derivation, canonical statement JSON, EIP-191 signatures made by
// noble and verified by `tkms app verify`, and signatures made by `tkms app sign` recovered by noble
// (byte-identical: both use RFC 6979 with low s). Forged, malleated and foreign signatures refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from './rng.mjs';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

const BIN = process.env.TKMS_BIN;
const N = Number(process.env.TKMS_DIFF_N || 40);
if (!BIN) {
  console.error('TKMS_BIN not set');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'tkms-release-diff-'));
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function tkms(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

function address(sk) {
  const pub = secp256k1.getPublicKey(sk, false);
  return keccak_256(pub.subarray(1)).subarray(12);
}

function appId(owner, salt) {
  return keccak_256(concatBytes(utf8ToBytes('TKMS-V1-APP'), owner, salt)).subarray(12);
}

function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object')
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  return JSON.stringify(v);
}

function eip191(msgBytes) {
  const prefix = utf8ToBytes('\x19Ethereum Signed Message:\n' + msgBytes.length);
  return keccak_256(concatBytes(prefix, msgBytes));
}

function sign(sk, text) {
  const rec = secp256k1.sign(eip191(utf8ToBytes(text)), sk, { prehash: false, format: 'recovered' });
  return concatBytes(rec.subarray(1), Uint8Array.of(27 + rec[0]));
}

function recover(sig, text) {
  const rec = concatBytes(Uint8Array.of(sig[64] - 27), sig.subarray(0, 64));
  const pub = secp256k1.recoverPublicKey(rec, eip191(utf8ToBytes(text)), { prehash: false });
  const full = secp256k1.Point.fromBytes(pub).toBytes(false);
  return keccak_256(full.subarray(1)).subarray(12);
}

const hex = (n) => bytesToHex(randomBytes(n));
const pick = (arr) => arr.filter(() => randomInt(2) === 1);

function randomStatement(app) {
  const methods = pick(['gcp-cs', 'tdx', 'sev-snp', 'insecure-dev']);
  if (methods.length === 0) methods.push('insecure-dev');
  const st = { app_id: '0x' + bytesToHex(app), seq: 1 + randomInt(1_000_000), methods };
  const args = ['app', 'statement', '--app', st.app_id, '--seq', String(st.seq)];
  for (const m of methods) args.push('--method', m);
  const list = (n, f) => Array.from({ length: n }, f);
  if (methods.includes('gcp-cs') || randomInt(2)) {
    st.image_digests = list(1 + randomInt(3), () => 'sha256:' + hex(32));
    for (const d of st.image_digests) args.push('--image-digest', d);
  }
  const dep = {};
  if (methods.includes('gcp-cs') || randomInt(2)) {
    dep.gcp_projects = list(1 + randomInt(2), (_, i) => `proj-${i}-${randomInt(1e6)}`);
    for (const p of dep.gcp_projects) args.push('--gcp-project', p);
  }
  if (randomInt(2)) {
    dep.service_accounts = [`sa${randomInt(1e6)}@p.iam.gserviceaccount.com`];
    args.push('--service-account', dep.service_accounts[0]);
  }
  if (randomInt(2)) {
    dep.tdx_mrconfigid = [bytesToHex(app) + hex(28)];
    args.push('--tdx-mrconfigid', dep.tdx_mrconfigid[0].toUpperCase()); // the CLI lowercases
  }
  if (randomInt(2)) {
    dep.snp_host_data = [bytesToHex(app) + hex(12)];
    args.push('--snp-host-data', dep.snp_host_data[0]);
  }
  if (Object.keys(dep).length) st.deployments = dep;
  if (methods.includes('tdx') || randomInt(2)) {
    st.tdx = { mrtd: list(1 + randomInt(2), () => hex(48)) };
    for (const h of st.tdx.mrtd) args.push('--mrtd', h);
    if (randomInt(2)) {
      st.tdx.rtmr1 = [hex(48)];
      args.push('--rtmr1', st.tdx.rtmr1[0]);
    }
  }
  if (methods.includes('sev-snp') || randomInt(2)) {
    st.snp = { measurement: [hex(48)] };
    args.push('--snp-measurement', st.snp.measurement[0]);
  }
  return { st, args };
}

let checked = 0;
try {
  for (let i = 0; i < N; i++) {
    const sk = secp256k1.utils.randomSecretKey();
    const salt = randomBytes(32);
    const owner = address(sk);
    const app = appId(owner, salt);
    const keyFile = join(dir, `owner${i}.key`);
    writeFileSync(keyFile, bytesToHex(sk) + '\n');
    chmodSync(keyFile, 0o600);

    // app ID and owner address
    let r = tkms(['app', 'create', '--owner-key-file', keyFile, '--salt', bytesToHex(salt)]);
    assert.equal(r.code, 0, r.err);
    const created = JSON.parse(r.out);
    assert.equal(created.app_id, '0x' + bytesToHex(app));
    assert.equal(created.owner, '0x' + bytesToHex(owner));
    assert.equal(created.salt, bytesToHex(salt));

    // canonical statement: C's bytes == JS's canonical JSON
    const { st, args } = randomStatement(app);
    r = tkms(args);
    assert.equal(r.code, 0, r.err + ' ' + args.join(' '));
    const can = canonical(st);
    assert.equal(r.out, can);
    const stFile = join(dir, `st${i}.json`);
    writeFileSync(stFile, JSON.stringify(st, null, 2)); // any layout: C canonicalises

    // noble signs, C verifies
    const sig = sign(sk, can);
    const signed = { salt: bytesToHex(salt), signature: bytesToHex(sig), statement: st };
    const sFile = join(dir, `signed${i}.json`);
    writeFileSync(sFile, JSON.stringify(signed));
    r = tkms(['app', 'verify', '--statement', sFile, '--owner', '0x' + bytesToHex(owner), '--salt', bytesToHex(salt)]);
    assert.equal(r.code, 0, r.err);
    const v = JSON.parse(r.out);
    assert.equal(v.app_id, st.app_id);
    assert.equal(v.seq, st.seq);

    // C signs, noble recovers; RFC 6979 on both sides gives the same bytes
    r = tkms(['app', 'sign', '--owner-key-file', keyFile, '--salt', bytesToHex(salt), '--statement', stFile]);
    assert.equal(r.code, 0, r.err);
    const cs = JSON.parse(r.out);
    assert.equal(canonical(cs), r.out, 'signed statement printed canonically');
    const csig = hexToBytes(cs.signature);
    assert.deepEqual(recover(csig, canonical(cs.statement)), owner);
    assert.equal(cs.signature, bytesToHex(sig));
    const csFile = join(dir, `csigned${i}.json`);
    writeFileSync(csFile, r.out);
    assert.equal(tkms(['app', 'verify', '--statement', csFile, '--owner', created.owner]).code, 0);

    // refusals: another key, the high-s twin, a tampered statement, the wrong expected owner
    const other = secp256k1.utils.randomSecretKey();
    writeFileSync(sFile, JSON.stringify({ ...signed, signature: bytesToHex(sign(other, can)) }));
    assert.equal(tkms(['app', 'verify', '--statement', sFile, '--owner', created.owner]).code, 1, 'foreign signer');
    const s = BigInt('0x' + bytesToHex(sig.subarray(32, 64)));
    const twin = concatBytes(sig.subarray(0, 32), hexToBytes((CURVE_N - s).toString(16).padStart(64, '0')),
      Uint8Array.of(sig[64] === 27 ? 28 : 27));
    assert.deepEqual(recover(twin, can), owner, 'the twin is valid for ecrecover');
    writeFileSync(sFile, JSON.stringify({ ...signed, signature: bytesToHex(twin) }));
    assert.equal(tkms(['app', 'verify', '--statement', sFile, '--owner', created.owner]).code, 1, 'high s');
    writeFileSync(sFile, JSON.stringify({ ...signed, statement: { ...st, seq: st.seq + 1 } }));
    assert.equal(tkms(['app', 'verify', '--statement', sFile, '--owner', created.owner]).code, 1, 'tampered');
    writeFileSync(sFile, JSON.stringify(signed));
    assert.equal(tkms(['app', 'verify', '--statement', sFile, '--owner', '0x' + bytesToHex(address(other))]).code, 1,
      'other expected owner');
    checked++;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`release_diff: ${checked} random statements agree with @noble/curves + @noble/hashes`);
