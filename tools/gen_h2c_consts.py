#!/usr/bin/env python3
"""Generates src/core/h2c_consts.h (RFC 9380 hash-to-curve constants for BLS12-381) from the RFC
excerpt in tools/rfc9380_bls12381_iso.txt, and checks every constant numerically before writing:
E' and the isogeny maps (random points of E' must land on E), Z non-square, the SSWU root
constants, and the constants of the norm-based Fp2 square-root ratio.

Usage: python3 tools/gen_h2c_consts.py [--check]   (--check: fail if the header is stale)"""
import os
import random
import re
import sys

P = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
R = 1 << 384
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "rfc9380_bls12381_iso.txt")
OUT = os.path.join(HERE, "..", "src", "core", "h2c_consts.h")


# ---- Fp2 = Fp[I]/(I^2+1) as (c0, c1) tuples ----
def f2(a, b=0):
    return (a % P, b % P)


def add2(a, b):
    return ((a[0] + b[0]) % P, (a[1] + b[1]) % P)


def sub2(a, b):
    return ((a[0] - b[0]) % P, (a[1] - b[1]) % P)


def mul2(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def pow2(a, e):
    r = (1, 0)
    while e:
        if e & 1:
            r = mul2(r, a)
        a = mul2(a, a)
        e >>= 1
    return r


def inv2(a):
    n = (a[0] * a[0] + a[1] * a[1]) % P
    ni = pow(n, P - 2, P)
    return (a[0] * ni % P, -a[1] * ni % P)


def is_sq1(a):
    return a % P == 0 or pow(a, (P - 1) // 2, P) == 1


def sqrt1(a):
    r = pow(a, (P + 1) // 4, P)
    assert r * r % P == a % P
    return r


def is_sq2(a):
    return is_sq1(a[0] * a[0] + a[1] * a[1])


def sqrt2(a):
    # Complex method: a = x^2 with x = x0 + x1 I; x0^2 = (a0 +- |a|)/2.
    a = f2(*a)
    if a[1] == 0:
        if is_sq1(a[0]):
            return (sqrt1(a[0]), 0)
        return (0, sqrt1(-a[0] % P))
    n = sqrt1((a[0] * a[0] + a[1] * a[1]) % P)
    half = pow(2, P - 2, P)
    for s in (n, -n % P):
        t = (a[0] + s) * half % P
        if is_sq1(t):
            x0 = sqrt1(t)
            x1 = a[1] * pow(2 * x0, P - 2, P) % P
            r = (x0, x1)
            assert mul2(r, r) == a
            return r
    raise AssertionError("not a square")


# ---- parse the RFC excerpt ----
def parse():
    text = open(SRC).read()
    g1 = text[text.index("E.2 11-isogeny"):text.index("E.3 3-isogeny")]
    g2 = text[text.index("E.3 3-isogeny"):]

    def ks(sec, i, conv):
        out = {}
        for m in re.finditer(r"- k_\(%d,(\d+)\) = (.+)" % i, sec):
            out[int(m.group(1))] = conv(m.group(2).strip())
        n = max(out) + 1
        assert sorted(out) == list(range(n)), (i, sorted(out))
        return [out[j] for j in range(n)]

    def fp(s):
        assert re.fullmatch(r"0x[0-9a-f]+", s), s
        v = int(s, 16)
        assert v < P
        return v

    def fp2(s):
        m = re.fullmatch(r"(0x[0-9a-f]+)(?: \+ (0x[0-9a-f]+) \* I)?|(0x[0-9a-f]+) \* I", s)
        assert m, s
        if m.group(3):
            return (0, fp(m.group(3)))
        return (fp(m.group(1)), fp(m.group(2)) if m.group(2) else 0)

    a1 = fp(re.search(r"A' = (0x[0-9a-f]+)", text).group(1))
    b1 = fp(re.search(r"B' = (0x[0-9a-f]+)", text).group(1))
    assert "A' = 240 * I" in text and "B' = 1012 * (1 + I)" in text and "Z: -(2 + I)" in text
    assert "- Z: 11" in text and "h_eff: 0xd201000000010001" in text
    iso1 = [ks(g1, i, fp) for i in (1, 2, 3, 4)]
    iso2 = [ks(g2, i, fp2) for i in (1, 2, 3, 4)]
    return a1, b1, iso1, iso2


def horner1(c, x):
    r = 0
    for k in reversed(c):
        r = (r * x + k) % P
    return r


def horner2(c, x):
    r = (0, 0)
    for k in reversed(c):
        r = add2(mul2(r, x), k)
    return r


def check(a1, b1, iso1, iso2):
    rnd = random.Random(9380)
    xn, xd, yn, yd = iso1
    assert [len(v) for v in iso1] == [12, 10, 16, 15]
    assert [len(v) for v in iso2] == [4, 2, 4, 3]
    assert not is_sq1(11)
    # random points of E' must map onto E: y^2 = x^3 + 4
    n = 0
    while n < 20:
        x = rnd.randrange(P)
        g = (x * x * x + a1 * x + b1) % P
        if not is_sq1(g):
            continue
        y = sqrt1(g)
        X = horner1(xn, x) * pow(horner1(xd + [1], x), P - 2, P) % P
        Y = y * horner1(yn, x) * pow(horner1(yd + [1], x), P - 2, P) % P
        assert (Y * Y - X * X * X - 4) % P == 0, "G1 isogeny constants do not map E' to E"
        n += 1
    A2, B2, Z2 = f2(0, 240), f2(1012, 1012), f2(-2, -1)
    assert not is_sq2(Z2)
    xn, xd, yn, yd = iso2
    n = 0
    while n < 20:
        x = f2(rnd.randrange(P), rnd.randrange(P))
        g = add2(add2(mul2(mul2(x, x), x), mul2(A2, x)), B2)
        if not is_sq2(g):
            continue
        y = sqrt2(g)
        X = mul2(horner2(xn, x), inv2(horner2(xd + [(1, 0)], x)))
        Y = mul2(y, mul2(horner2(yn, x), inv2(horner2(yd + [(1, 0)], x))))
        rhs = add2(mul2(mul2(X, X), X), f2(4, 4))
        assert mul2(Y, Y) == rhs, "G2 isogeny constants do not map E' to E"
        n += 1


def limbs(v, n=6):
    return [(v >> (64 * i)) & 0xFFFFFFFFFFFFFFFF for i in range(n)]


def c_fp(v):
    m = v * R % P
    return "{{" + ", ".join("0x%016xULL" % w for w in limbs(m)) + "}}"


def c_fp2(v):
    return "{" + c_fp(v[0]) + ", " + c_fp(v[1]) + "}"


def c_limbs(v, n=6):
    return "{" + ", ".join("0x%016xULL" % w for w in limbs(v, n)) + "}"


def main():
    a1, b1, iso1, iso2 = parse()
    check(a1, b1, iso1, iso2)

    # G1 SSWU (RFC 9380 F.2, q = 3 mod 4): c1 = (p-3)/4, c2 = sqrt(-Z^3).
    z1 = 11
    c2_1 = sqrt1(-(z1 ** 3) % P)
    # G2 SSWU: the square-root ratio is done in Fp through the norm (see h2c.c), which needs
    # Z^3, sqrt(-N(Z)^3) = sqrt(-125) and 1/2. N(Z) = 5 is a non-square (as Z is), so -125 is a square.
    A2, B2, Z2 = f2(0, 240), f2(1012, 1012), f2(-2, -1)
    z3 = mul2(mul2(Z2, Z2), Z2)
    nz = (Z2[0] ** 2 + Z2[1] ** 2) % P
    assert nz == 5 and not is_sq1(nz) and is_sq1(-125 % P)
    s125 = sqrt1(-125 % P)
    inv2 = pow(2, P - 2, P)

    out = []
    w = out.append
    w("/* RFC 9380 constants for BLS12-381 hash-to-curve, in Montgomery form (R = 2^384).")
    w(" * GENERATED by tools/gen_h2c_consts.py from tools/rfc9380_bls12381_iso.txt; do not edit. */")
    w("#ifndef TKMS_H2C_CONSTS_H")
    w("#define TKMS_H2C_CONSTS_H")
    w("")
    w('#include "fp2.h"')
    w("")
    w("/* G1: E': y^2 = x^3 + A'x + B' (RFC 9380 8.8.1), Z = 11. */")
    w("static const fp_t H2C_G1_A = %s;" % c_fp(a1))
    w("static const fp_t H2C_G1_B = %s;" % c_fp(b1))
    w("static const fp_t H2C_G1_MINUS_A = %s;" % c_fp(-a1 % P))
    w("static const fp_t H2C_G1_ZA = %s; /* Z * A' */" % c_fp(z1 * a1 % P))
    w("static const fp_t H2C_G1_Z = %s;" % c_fp(z1))
    w("static const fp_t H2C_G1_SQRT_MINUS_Z3 = %s; /* sqrt(-Z^3) */" % c_fp(c2_1))
    w("/* (p - 3) / 4, plain little-endian limbs. */")
    w("static const uint64_t H2C_P_MINUS_3_DIV_4[6] = %s;" % c_limbs((P - 3) // 4))
    names = ("XNUM", "XDEN", "YNUM", "YDEN")
    w("/* 11-isogeny E' -> E (RFC 9380 E.2): k_(i,0..d); the denominators are monic (leading 1 omitted). */")
    for nm, ks in zip(names, iso1):
        w("static const fp_t H2C_G1_ISO_%s[%d] = {" % (nm, len(ks)))
        for k in ks:
            w("    %s," % c_fp(k))
        w("};")
    w("")
    w("/* G2: E': y^2 = x^3 + 240 I x + 1012 (1 + I) (RFC 9380 8.8.2), Z = -(2 + I). */")
    w("static const fp2_t H2C_G2_A = %s;" % c_fp2(A2))
    w("static const fp2_t H2C_G2_B = %s;" % c_fp2(B2))
    w("static const fp2_t H2C_G2_MINUS_A = %s;" % c_fp2(sub2((0, 0), A2)))
    w("static const fp2_t H2C_G2_ZA = %s;" % c_fp2(mul2(Z2, A2)))
    w("static const fp2_t H2C_G2_Z = %s;" % c_fp2(Z2))
    w("static const fp2_t H2C_G2_Z3 = %s; /* Z^3 */" % c_fp2(z3))
    w("static const fp_t H2C_SQRT_MINUS_125 = %s; /* sqrt(-N(Z)^3) */" % c_fp(s125))
    w("static const fp_t H2C_FP_HALF = %s;" % c_fp(inv2))
    w("/* (p + 1) / 4, plain little-endian limbs. */")
    w("static const uint64_t H2C_P_PLUS_1_DIV_4[6] = %s;" % c_limbs((P + 1) // 4))
    w("/* 3-isogeny E' -> E (RFC 9380 E.3): k_(i,0..d); the denominators are monic (leading 1 omitted). */")
    for nm, ks in zip(names, iso2):
        w("static const fp2_t H2C_G2_ISO_%s[%d] = {" % (nm, len(ks)))
        for k in ks:
            w("    %s," % c_fp2(k))
        w("};")
    w("")
    w("#endif")
    text = "\n".join(out) + "\n"
    if "--check" in sys.argv:
        if open(OUT).read() != text:
            sys.exit("src/core/h2c_consts.h is stale: rerun tools/gen_h2c_consts.py")
        print("h2c_consts.h up to date")
        return
    open(OUT, "w").write(text)
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
