// age keys for SOPS tests, generated in Node: bech32 (BIP 173) over X25519 keys, as `age-keygen`
// writes them (`AGE-SECRET-KEY-1...` and `age1...`).
import { generateKeyPairSync } from 'node:crypto';

const bech32Charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function bech32(hrp: string, bytes: Uint8Array): string {
  const words: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31);
  const polymod = (values: number[]) => {
    const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of values) {
      const top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= gen[i] as number;
    }
    return chk >>> 0;
  };
  const codes = [...hrp].map((ch) => ch.charCodeAt(0));
  const expanded = [...codes.map((ch) => ch >> 5), 0, ...codes.map((ch) => ch & 31)];
  const mod = polymod([...expanded, ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => bech32Charset[w]).join('')}`;
}

export function ageKeyPair(): { identity: string; recipient: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const x = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  return { identity: bech32('age-secret-key-', d).toUpperCase(), recipient: bech32('age', x) };
}
