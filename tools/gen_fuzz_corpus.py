#!/usr/bin/env python3
"""Writes the libFuzzer seed corpora in fuzz/corpus/<target>/ from the public vectors in
tests/vectors (valid and invalid encodings). With --tkms BIN it also adds, for fuzz_bls_verify,
a valid signature under the target's fixed key (made with `tkms bls sign`).
Usage: tools/gen_fuzz_corpus.py [--tkms build/tkms]"""
import hashlib, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V = os.path.join(ROOT, 'tests', 'vectors')
OUT = os.path.join(ROOT, 'fuzz', 'corpus')


def load(rel):
    with open(os.path.join(V, rel)) as f:
        return json.load(f)


def unhex(h):
    return bytes.fromhex(h[2:] if h.startswith('0x') else h)


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha256(data).hexdigest()[:16]), 'wb') as f:
        f.write(data)


def main():
    g1, g2, ver = set(), set(), set()
    for c in load('eth-bls/deserialization_G1.json'):
        g1.add(unhex(c['input']['pubkey']))
    for c in load('eth-bls/deserialization_G2.json'):
        g2.add(unhex(c['input']['signature']))
    for c in load('eth-bls/verify.json'):
        i = c['input']
        pk, sig, msg = unhex(i['pubkey']), unhex(i['signature']), unhex(i['message'])
        g1.add(pk)
        g2.add(sig)
        if len(sig) == 96 and len(pk) == 48:
            ver.add(b'\x01' + sig + pk + msg)
    beacons = load('drand-beacons.json')
    qpk = unhex(beacons['chain_info']['public_key'])
    g2.add(qpk)
    for b in beacons['beacons']:
        sig = unhex(b['signature'])
        g1.add(sig)
        ver.add(b'\x00' + sig + qpk + unhex(b['message_hex']))
    for s in list(g1):  # truncated and flag-flipped variants
        g1.add(s[:-1])
        g1.add(bytes([s[0] ^ 0x20]) + s[1:])
    for s in list(g2):
        g2.add(s[:-1])
        g2.add(bytes([s[0] ^ 0x20]) + s[1:])
    if '--tkms' in sys.argv:
        tkms = sys.argv[sys.argv.index('--tkms') + 1]
        ikm = b'tkms-fuzz-fixed-key-material-32b'.hex()
        for vb, var, dst in ((0, 'min-sig', 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_'),
                             (1, 'min-pk', 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_')):
            kg = subprocess.run([tkms, 'bls', 'keygen', '--variant', var, '--ikm-file', '-'], input=ikm, check=True,
                                capture_output=True, text=True).stdout.split()
            sk, pk = kg[1], kg[3]
            for msg in (b'', b'fuzz'):
                sig = subprocess.run([tkms, 'bls', 'sign', '--variant', var, '--dst', dst, '--sk-file', '-',
                                      '--msg', msg.hex()], input=sk, check=True, capture_output=True,
                                     text=True).stdout.strip()
                ver.add(bytes([vb]) + bytes.fromhex(sig) + bytes.fromhex(pk) + msg)
    for s in g1:
        put('fuzz_g1_deserialize', s)
    for s in g2:
        put('fuzz_g2_deserialize', s)
    for s in ver:
        put('fuzz_bls_verify', s)
    print(f'corpus: {len(g1)} g1, {len(g2)} g2, {len(ver)} verify seeds')


main()
