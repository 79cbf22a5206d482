#!/usr/bin/env python3
"""Encrypts a PKCS#8 PEM private key as PBES2 with scrypt and AES-256-CBC (passphrase PASS).

`openssl pkcs8 -scrypt` cannot make the keys bench/limits.sh needs: its scrypt refuses more than
32 MiB of memory, and API.md §12 allows 64 MiB (128·N·r) with N·r·p up to 2^22. So the key is
derived here (hashlib.scrypt), encrypted by `openssl enc`, and the DER is written by hand.

usage: bench/limits-scrypt-key.py IN.pem OUT.pem PASS N R P
"""
import base64
import hashlib
import os
import subprocess
import sys


def der(tag, body):
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def seq(*items):
    return der(0x30, b"".join(items))


def octets(data):
    return der(0x04, data)


def integer(value):
    # One byte more than the bits need when the top bit would be set: DER integers are signed.
    return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, body)


def main():
    src, dst, passphrase = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    n, r, p = (int(x) for x in sys.argv[4:7])
    pem = open(src).read()
    if "BEGIN PRIVATE KEY" not in pem:
        sys.exit(f"{src}: not an unencrypted PKCS#8 PEM key")
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    plain = base64.b64decode(body)
    salt, iv = os.urandom(16), os.urandom(16)
    key = hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=1 << 30, dklen=32)
    cipher = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-nosalt", "-K", key.hex(), "-iv", iv.hex()],
        input=plain, capture_output=True, check=True).stdout
    info = seq(
        seq(oid("1.2.840.113549.1.5.13"),  # PBES2
            seq(seq(oid("1.3.6.1.4.1.11591.4.11"),  # scrypt
                    seq(octets(salt), integer(n), integer(r), integer(p))),
                seq(oid("2.16.840.1.101.3.4.1.42"), octets(iv)))),  # aes256-CBC
        octets(cipher))
    text = base64.b64encode(info).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    with open(dst, "w") as out:
        out.write("-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + "\n".join(lines)
                  + "\n-----END ENCRYPTED PRIVATE KEY-----\n")


if __name__ == "__main__":
    main()
