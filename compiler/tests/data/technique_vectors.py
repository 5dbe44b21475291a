# Independent known answers for the reference's keyed techniques (compiler/src/reference/techniques/tests.rs),
# computed from docs/language.md "Techniques, byte by byte" with Python's hmac, hashlib and cryptography
# (FF1 written out here). Run: python3 compiler/tests/data/technique_vectors.py
import hmac, hashlib, math, struct, base64
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

RAW = b"0123456789abcdef0123456789abcdef"
def H(k, m): return hmac.new(k, m, hashlib.sha256).digest()
def hkdf(salt, ikm, info, n):
    prk = H(salt, ikm); out = b""; t = b""; i = 1
    while len(out) < n:
        t = H(prk, t + info + bytes([i])); out += t; i += 1
    return out[:n]
kid = H(RAW, b"pol key id")[:4].hex()
salt = b"pol masking key v1"
hk = hkdf(salt, RAW, b"pol hash v1", 32)
tk = hkdf(salt, RAW, b"pol token v1", 64)
fk = hkdf(salt, RAW, b"pol fpe v1", 32)
nk = hkdf(salt, RAW, b"pol noise v1", 32)
print("id", kid)
print("hash source", H(hk, b"customers\0jenny@example.com").hex())
print("hash global", H(hk, b"jenny@example.com").hex())
print("hash int 42", H(hk, b"customers\x0042").hex())
def seed(src, col, key): return H(nk, src.encode()+b"\0"+col.encode()+b"\0"+key.encode())
def words(s): return struct.unpack(">QQ", s[:16])
for (src,col,key,scale,val) in [("people","salary","42",1000.0,52000),("people","salary","7",1000.0,52000),("people","born","42",30.0,None)]:
    w0,w1 = words(seed(src,col,key))
    u = ((w0>>11)+0.5)/2**53
    x = scale*math.log(2*u) if u<0.5 else -scale*math.log(2*(1-u))
    r = math.floor(abs(x)+0.5)*(1 if x>=0 else -1)
    print("noise", src, col, key, scale, "u", u, "x", repr(x), "rounded", r, "val+r", (val+r) if val is not None else None)
for key in ["1","2","3","4","5","6"]:
    w0,w1 = words(seed("visits","state",key))
    u = (w0>>11)/2**53
    print("randomize key", key, "u", u, "w1 mod 2", w1 % 2, "w1 mod 3", w1 % 3, hex(w1))
siv = AESSIV(tk)
ct = siv.encrypt(b"4111 1111 1111 1111", [b"pol token v1", kid.encode()])
print("token", "tok_%s_%s" % (kid, base64.urlsafe_b64encode(ct).rstrip(b"=").decode()))

# FF1 (NIST SP 800-38G), radix 2, AES-256.
def aes_ecb(k, block):
    e = Cipher(algorithms.AES(k), modes.ECB()).encryptor(); return e.update(block)+e.finalize()
def prf(k, x):
    y = bytes(16)
    for i in range(0, len(x), 16):
        y = aes_ecb(k, bytes(a^b for a,b in zip(y, x[i:i+16])))
    return y
def num(bits, radix=2):
    n = 0
    for b in bits: n = n*radix + b
    return n
def strr(x, m, radix=2):
    out = []
    for _ in range(m): out.append(x % radix); x //= radix
    return out[::-1]
def ff1_encrypt(k, T, X, radix=2):
    n = len(X); u = n//2; v = n-u
    A, B = X[:u], X[u:]
    b = math.ceil(math.ceil(v*math.log2(radix))/8)
    d = 4*math.ceil(b/4)+4
    t = len(T)
    P = bytes([1,2,1]) + radix.to_bytes(3,"big") + bytes([10, u % 256]) + n.to_bytes(4,"big") + t.to_bytes(4,"big")
    for i in range(10):
        Q = T + bytes((-t-b-1) % 16) + bytes([i]) + num(B,radix).to_bytes(b,"big")
        R = prf(k, P+Q)
        S = R
        j = 1
        while len(S) < d:
            S += aes_ecb(k, bytes(a^c for a,c in zip(R, (j).to_bytes(16,"big")))); j += 1
        S = S[:d]
        y = int.from_bytes(S,"big")
        m = u if i % 2 == 0 else v
        c = (num(A,radix) + y) % (radix**m)
        C = strr(c, m, radix)
        A, B = B, C
    return A+B
def fpe(src, col, text):
    syms = []
    for ch in text:
        if ch.isdigit() and ch.isascii(): syms.append((10, ord(ch)-48))
        elif ch.isascii() and ch.islower(): syms.append((26, ord(ch)-97))
        elif ch.isascii() and ch.isupper(): syms.append((26, ord(ch)-65))
    M = 1; N = 0
    for r, d in syms: M *= r; N = N*r + d
    assert M >= 10**6
    width = (M-1).bit_length()
    shape = bytes(ord("d") if r == 10 else ord("l") for r,_ in syms)
    h = hashlib.sha256(); h.update(b"pol fpe v1\0"); h.update(len(src.encode()).to_bytes(8,"big")); h.update(src.encode())
    h.update(len(col.encode()).to_bytes(8,"big")); h.update(col.encode()); h.update(shape)
    T = h.digest()
    x = N; walks = 0
    while True:
        x = num(ff1_encrypt(fk, T, strr(x, width)))
        walks += 1
        if x < M: break
    digs = []
    for r,_ in reversed(syms): digs.append(x % r); x //= r
    digs.reverse()
    out = []; it = iter(digs)
    for ch in text:
        if ch.isascii() and ch.isdigit(): out.append(chr(48+next(it)))
        elif ch.isascii() and ch.islower(): out.append(chr(97+next(it)))
        elif ch.isascii() and ch.isupper(): out.append(chr(65+next(it)))
        else: out.append(ch)
    return "".join(out), walks
print("fpe", fpe("payments", "card", "4111-1111-1111-1111"))
print("fpe", fpe("people", "ref", "AB-123456"))
print("fpe", fpe("people", "ref", "Zx9-81q"))
def fpe_int(src, col, v):
    # docs/language.md, "format_preserving on an int": same sign, same number of digits.
    m = abs(v); n = len(str(m))
    lo = 10**(n-1); hi = min(10**n - 1, 2**63 - 1)
    M = hi - lo + 1
    assert n >= 2 and M >= 10**6 and m <= hi
    shape = b"i" + (b"-" if v < 0 else b"") + b"d"*n
    h = hashlib.sha256(); h.update(b"pol fpe v1\0"); h.update(len(src.encode()).to_bytes(8,"big")); h.update(src.encode())
    h.update(len(col.encode()).to_bytes(8,"big")); h.update(col.encode()); h.update(shape)
    T = h.digest()
    width = (M-1).bit_length()
    x = m - lo; walks = 0
    while True:
        x = num(ff1_encrypt(fk, T, strr(x, width)))
        walks += 1
        if x < M: break
    out = lo + x
    return (-out if v < 0 else out), walks
print("fpe_int", fpe_int("payments", "account", 5320130001))
print("fpe_int", fpe_int("payments", "account", -1234567))
print("fpe_int", fpe_int("payments", "account", 9223372036854775807))
print("fpe_int", fpe_int("payments", "account", 1000000000000000000))
