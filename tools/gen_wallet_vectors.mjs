#!/usr/bin/env node
// Generates tests/vectors/tkms-wallet.json: known answers for the tkms-specific derivations of
// DESIGN.md §2 (app key -> mnemonic, data keys, TLS scalars), computed only with the npm oracles
// (@noble/hashes, @noble/curves, @scure/bip39), never with tkms itself.
// Usage: node tools/gen_wallet_vectors.mjs > tests/vectors/tkms-wallet.json
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils.js';
import { p256 } from '@noble/curves/nist.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { entropyToMnemonic, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';

const SALT = utf8ToBytes('TKMS-V1');
const be32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const lp = (b) => concatBytes(be32(b.length), b);
const N = p256.Point.CURVE().n;

export function appKeyMnemonic(appKey) {
  return entropyToMnemonic(hkdf(sha256, appKey, SALT, utf8ToBytes('bip39-entropy'), 32), wordlist);
}
export function dataKey(seed, label) {
  return hkdf(sha256, seed, SALT, concatBytes(lp(utf8ToBytes('data')), lp(utf8ToBytes(label))), 32);
}
export function tlsScalar(seed, domain) {
  for (let ctr = 0; ctr < 256; ctr++) {
    const info = concatBytes(lp(utf8ToBytes('tls')), lp(utf8ToBytes(domain)), be32(ctr));
    const c = hkdf(sha256, seed, SALT, info, 32);
    const v = BigInt('0x' + bytesToHex(c));
    if (v > 0n && v < N) return { scalar: c, counter: ctr };
  }
  throw new Error('no scalar');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const G1 = bls12_381.G1.Point;
  const appKeys = [1n, 2n, 0x1234567890abcdefn].map((s) => G1.BASE.multiply(s).toBytes(true));
  const mnemonics = [
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'test test test test test test test test test test test junk',
  ];
  const out = {
    description: 'tkms-specific derivations (DESIGN.md §2 TKMS-V1): app key -> 24-word mnemonic, data keys, TLS P-256 scalars. lp(x) = be32(len) || x; salt "TKMS-V1".',
    generator: 'tools/gen_wallet_vectors.mjs (uses @noble/hashes hkdf/sha256, @noble/curves p256 + bls12-381 G1, @scure/bip39; tkms code is not involved)',
    app_key_mnemonic: appKeys.map((k, i) => ({
      note: `compressed G1 point ${['1', '2', '0x1234567890abcdef'][i]}*G1`,
      app_key: bytesToHex(k),
      mnemonic: appKeyMnemonic(k),
    })),
    data_keys: [],
    tls: [],
  };
  for (const m of mnemonics) {
    const seed = mnemonicToSeedSync(m, '');
    for (const label of ['', 'db', 'postgres/main', 'ünïcode'])
      out.data_keys.push({ mnemonic: m, label, key: bytesToHex(dataKey(seed, label)) });
    for (const domain of ['example.com', 'app.example.com', '*.tkms.test']) {
      const { scalar, counter } = tlsScalar(seed, domain);
      out.tls.push({
        mnemonic: m, domain, counter, scalar: bytesToHex(scalar),
        public_key_uncompressed: bytesToHex(p256.getPublicKey(scalar, false)),
      });
    }
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}
