// Test helper for the key-release integration tests: builds POST /v1/keys/app and /v1/sign/app
// requests the way a TEE client would (docs/release-protocol.md §1-2), with insecure-dev evidence or
// a gcp-cs token minted with a local RSA key, and opens the answers (response signature under the
// node's Ed25519 key from the group file, HPKE base mode X25519/HKDF-SHA256/ChaCha20Poly1305). An
// independent implementation on node's built-in crypto only: it shares no code with tkms.
//
//   node release_req.mjs key  --app 0x.. --state F (--dev-seed HEX | --gcp-key PEM --claims JSON)
//        prints the request body; F keeps the recipient key and the nonce for `open`
//   node release_req.mjs sign --app 0x.. --msg HEX (--dev-seed HEX | --gcp-key PEM --claims JSON)
//   node release_req.mjs open --state F --group G --resp FILE   -> "index:partialhex" (exit 1 if bad)
//   node release_req.mjs check-sign --group G --app 0x.. --msg HEX --nonce HEX --resp FILE
//        -> "index:partialhex" after checking the node's signature
//   node release_req.mjs app-msg --app 0x.. --msg HEX        -> hex of the app-message encoding
import crypto from 'node:crypto';
import fs from 'node:fs';

const args = process.argv.slice(2);
const cmd = args.shift();
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => Buffer.from(s.replace(/^0x/, ''), 'hex');
const lp = (b) => { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return Buffer.concat([l, b]); };
const be64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(v)); return b; };
const be32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const sha = (alg, ...parts) => crypto.createHash(alg).update(Buffer.concat(parts)).digest();
const b64u = (b) => Buffer.from(b).toString('base64url');
const die = (m) => { console.error('release_req: ' + m); process.exit(1); };

const PKCS8 = { ed25519: '302e020100300506032b657004220420', x25519: '302e020100300506032b656e04220420' };
const privKey = (kind, raw) => crypto.createPrivateKey({ key: Buffer.concat([unhex(PKCS8[kind]), raw]), format: 'der', type: 'pkcs8' });
const rawPub = (k) => crypto.createPublicKey(k).export({ format: 'der', type: 'spki' }).subarray(-32);
const pubKey = (crv, raw) => crypto.createPublicKey({ key: { kty: 'OKP', crv, x: b64u(raw) }, format: 'jwk' });

function binding(app, rcpt, nonce) {
  return sha('sha512', Buffer.from('TKMS-V1-ATTEST'), lp(app), lp(rcpt), lp(nonce));
}

function evidence(app, B) {
  if (opt('--dev-seed')) {
    const sk = privKey('ed25519', unhex(opt('--dev-seed')));
    const sig = crypto.sign(null, Buffer.concat([Buffer.from('TKMS-V1-INSECURE-DEV'), app, B]), sk);
    const ev = JSON.stringify({ format: 'tkms-insecure-dev-v1', app_id: '0x' + hex(app), binding: hex(B),
      public_key: hex(rawPub(sk)), signature: hex(sig) });
    return { method: 'insecure-dev', evidence: Buffer.from(ev).toString('base64') };
  }
  if (opt('--gcp-key')) {
    const claims = JSON.parse(fs.readFileSync(opt('--claims'), 'utf8'));
    claims.eat_nonce = hex(B.subarray(0, 32));
    const h = b64u(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' }));
    const p = b64u(JSON.stringify(claims));
    const s = crypto.sign('sha256', Buffer.from(h + '.' + p), fs.readFileSync(opt('--gcp-key')));
    return { method: 'gcp-cs', evidence: Buffer.from(h + '.' + p + '.' + b64u(s)).toString('base64') };
  }
  die('need --dev-seed or --gcp-key');
}

// RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305: open seq 0.
function hpkeOpen(skR, pkR, enc, ct, info, aad) {
  const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
  const extract = (salt, ikm) => hmac(salt.length ? salt : Buffer.alloc(32), ikm);
  const expand = (prk, inf, L) => {
    let t = Buffer.alloc(0), out = Buffer.alloc(0);
    for (let i = 1; out.length < L; i++) { t = hmac(prk, Buffer.concat([t, inf, Buffer.from([i])])); out = Buffer.concat([out, t]); }
    return out.subarray(0, L);
  };
  const V1 = Buffer.from('HPKE-v1');
  const lext = (sid, salt, label, ikm) => extract(salt, Buffer.concat([V1, sid, Buffer.from(label), ikm]));
  const lexp = (sid, prk, label, inf, L) => expand(prk, Buffer.concat([Buffer.from([L >> 8, L & 255]), V1, sid, Buffer.from(label), inf]), L);
  const kemId = Buffer.concat([Buffer.from('KEM'), Buffer.from([0, 0x20])]);
  const dh = crypto.diffieHellman({ privateKey: skR, publicKey: pubKey('X25519', enc) });
  const eae = lext(kemId, Buffer.alloc(0), 'eae_prk', dh);
  const shared = lexp(kemId, eae, 'shared_secret', Buffer.concat([enc, pkR]), 32);
  const sid = Buffer.concat([Buffer.from('HPKE'), Buffer.from([0, 0x20, 0, 1, 0, 3])]);
  const ctx = Buffer.concat([Buffer.from([0]), lext(sid, Buffer.alloc(0), 'psk_id_hash', Buffer.alloc(0)),
    lext(sid, Buffer.alloc(0), 'info_hash', info)]);
  const secret = lext(sid, shared, 'secret', Buffer.alloc(0));
  const key = lexp(sid, secret, 'key', ctx, 32), nonce = lexp(sid, secret, 'base_nonce', ctx, 12);
  const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: ct.length - 16 });
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
}

function nodeKey(groupFile, index) {
  const g = JSON.parse(fs.readFileSync(groupFile, 'utf8'));
  const m = g.members.find((x) => x.index === index);
  if (!m) die('no member ' + index);
  return pubKey('Ed25519', unhex(m.ed25519));
}

const app = opt('--app') ? unhex(opt('--app')) : null;
if (cmd === 'key') {
  const sk = crypto.randomBytes(32), kp = privKey('x25519', sk), rcpt = rawPub(kp), nonce = crypto.randomBytes(32);
  fs.writeFileSync(opt('--state'), JSON.stringify({ sk: hex(sk), recipient: hex(rcpt), nonce: hex(nonce), app: hex(app) }));
  const att = evidence(app, binding(app, rcpt, nonce));
  console.log(JSON.stringify({ app_id: '0x' + hex(app), recipient: hex(rcpt), nonce: hex(nonce), attestation: att }));
} else if (cmd === 'sign') {
  const msg = unhex(opt('--msg')), nonce = opt('--nonce') ? unhex(opt('--nonce')) : crypto.randomBytes(32);
  const np = sha('sha256', Buffer.from('TKMS-V1-SIGN-APP'), lp(msg), nonce);
  const att = evidence(app, binding(app, Buffer.alloc(0), np));
  console.log(JSON.stringify({ app_id: '0x' + hex(app), nonce: hex(nonce), msg: hex(msg), attestation: att }));
} else if (cmd === 'open') {
  const st = JSON.parse(fs.readFileSync(opt('--state'), 'utf8'));
  const r = JSON.parse(fs.readFileSync(opt('--resp'), 'utf8'));
  const a = unhex(st.app), enc = unhex(r.enc), ct = unhex(r.ciphertext);
  if (r.app_id !== '0x' + st.app) die('app_id echo');
  const signed = Buffer.concat([Buffer.from('TKMS-V1-KEY-RESPONSE'), lp(a), be64(r.epoch), be32(r.index),
    lp(unhex(st.recipient)), lp(unhex(st.nonce)), lp(enc), lp(ct)]);
  if (!crypto.verify(null, signed, nodeKey(opt('--group'), r.index), unhex(r.signature))) die('bad response signature');
  const aad = Buffer.concat([lp(a), be64(r.epoch), be32(r.index)]);
  const pt = hpkeOpen(privKey('x25519', unhex(st.sk)), unhex(st.recipient), enc, ct, Buffer.from('tkms/v1/partial-key'), aad);
  if (pt.length !== 48) die('partial length');
  console.log(r.index + ':' + hex(pt));
} else if (cmd === 'check-sign') {
  const r = JSON.parse(fs.readFileSync(opt('--resp'), 'utf8'));
  const signed = Buffer.concat([Buffer.from('TKMS-V1-SIGN-RESPONSE'), lp(app), be64(r.epoch), be32(r.index),
    lp(unhex(opt('--nonce'))), lp(unhex(opt('--msg'))), lp(unhex(r.partial))]);
  if (!crypto.verify(null, signed, nodeKey(opt('--group'), r.index), unhex(r.signature))) die('bad response signature');
  console.log(r.index + ':' + r.partial);
} else if (cmd === 'app-msg') {
  console.log(hex(Buffer.concat([Buffer.from('TKMS-V1-APP-MSG'), app, lp(unhex(opt('--msg')))])));
} else {
  die('usage: key|sign|open|check-sign|app-msg');
}
