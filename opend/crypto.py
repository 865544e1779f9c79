"""OpenD's optional packet encryption: RSA for InitConnect, AES for everything after it.

Used by both ends. Client and OpenD share one RSA private key file (PKCS#1 PEM, no passphrase):
the client encrypts InitConnect with the public half and decrypts the reply with the private key;
the server does the mirror image (`rsa_decrypt` the request, `rsa_encrypt` the reply). RSA works
in chunks (PKCS#1 v1.5: 100-byte plaintext chunks, key-size ciphertext chunks). After InitConnect,
bodies are AES-128 with the connection's `connAESKey`, in the mode InitConnect agreed.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from opend.enums import PacketEncAlgo
from opend.errors import CryptoError

RSA_PLAIN_CHUNK = 100
AES_BLOCK = 16


def load_rsa_key(path: Path) -> rsa.RSAPrivateKey:
    """Read the shared RSA private key (PEM, PKCS#1 or PKCS#8, no passphrase)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CryptoError(f"cannot load RSA private key {path}: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoError(f"{path} is not an RSA private key")
    return key


def generate_rsa_key_pem(bits: int = 1024) -> bytes:
    """A fresh PKCS#1 PEM private key, the format OpenD's `rsa_private_key` file uses (tests, demo)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def rsa_encrypt(key: rsa.RSAPrivateKey, plaintext: bytes) -> bytes:
    """Encrypt with the public half, 100 bytes at a time, chunks concatenated."""
    public = key.public_key()
    chunks = [
        public.encrypt(plaintext[i : i + RSA_PLAIN_CHUNK], padding.PKCS1v15())
        for i in range(0, len(plaintext), RSA_PLAIN_CHUNK)
    ]
    return b"".join(chunks)


def rsa_decrypt(key: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    """Decrypt key-size chunks with the private key; `CryptoError` on a bad length.

    A wrong key may yield garbage instead of an error (OpenSSL's implicit rejection), so the
    caller must verify the header's SHA-1 over the result, as it does for every packet.
    """
    size = key.key_size // 8
    if not ciphertext or len(ciphertext) % size:
        raise CryptoError(f"RSA ciphertext length {len(ciphertext)} is not a multiple of {size}")
    try:
        return b"".join(
            key.decrypt(ciphertext[i : i + size], padding.PKCS1v15())
            for i in range(0, len(ciphertext), size)
        )
    except ValueError:
        raise CryptoError("RSA decryption failed (different key on the two sides?)") from None


class AesCodec:
    """Encrypts and decrypts bodies of one connection with its AES key, both directions alike."""

    def __init__(
        self, key: str | bytes, algo: PacketEncAlgo, iv: str | bytes | None = None
    ) -> None:
        self.key = key.encode("ascii") if isinstance(key, str) else bytes(key)
        if len(self.key) != AES_BLOCK:
            raise CryptoError(f"AES key must be 16 bytes, got {len(self.key)}")
        self.algo = PacketEncAlgo(algo)
        if self.algo is PacketEncAlgo.NONE:
            raise CryptoError("AesCodec needs an encryption algorithm")
        self.iv = iv.encode("ascii") if isinstance(iv, str) else iv
        if self.algo is PacketEncAlgo.AES_CBC and (self.iv is None or len(self.iv) != AES_BLOCK):
            raise CryptoError("AES-CBC needs a 16-byte IV (aesCBCiv)")

    def _cipher(self) -> Cipher[modes.Mode]:
        mode: modes.Mode = (
            modes.CBC(self.iv) if self.algo is PacketEncAlgo.AES_CBC else modes.ECB()  # type: ignore[arg-type]
        )
        return Cipher(algorithms.AES(self.key), mode)

    def encrypt(self, plaintext: bytes) -> bytes:
        """Encrypt one body (each packet starts afresh from the same IV, as OpenD does)."""
        enc = self._cipher().encryptor()
        if self.algo is PacketEncAlgo.FTAES_ECB:
            tail = len(plaintext) % AES_BLOCK
            padded = plaintext + bytes((AES_BLOCK - tail) % AES_BLOCK)
            trailer = bytes(AES_BLOCK - 1) + bytes([tail])
            return enc.update(padded) + enc.finalize() + trailer
        padder = sym_padding.PKCS7(AES_BLOCK * 8).padder()
        padded = padder.update(plaintext) + padder.finalize()
        return enc.update(padded) + enc.finalize()

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt one body; `CryptoError` when the length or padding is wrong."""
        if not ciphertext or len(ciphertext) % AES_BLOCK:
            raise CryptoError(f"AES ciphertext length {len(ciphertext)} is not a multiple of 16")
        dec = self._cipher().decryptor()
        if self.algo is PacketEncAlgo.FTAES_ECB:
            body, trailer = ciphertext[:-AES_BLOCK], ciphertext[-AES_BLOCK:]
            plain = dec.update(body) + dec.finalize()
            tail = trailer[-1]
            if tail >= AES_BLOCK:
                raise CryptoError("FTAES-ECB trailer is corrupt")
            return plain[: len(plain) - (AES_BLOCK - tail)] if tail else plain
        padded = dec.update(ciphertext) + dec.finalize()
        unpadder = sym_padding.PKCS7(AES_BLOCK * 8).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise CryptoError("AES padding is wrong (different key on the two sides?)") from None


def random_aes_key() -> str:
    """A 16-character key or IV for a new connection (the server side hands these out)."""
    return os.urandom(8).hex()
