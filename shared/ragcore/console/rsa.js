// The password cipher RAGFlow's own web client sends to /auth/login: base64(RSA-PKCS#1 v1.5(base64(password)))
// under the public key RAGFlow publishes (conf/public.pem). BigInt arithmetic keeps it dependency-free.
const N = BigInt("0xaeaf574d449e62bdbe37587701f97fcfc0ec7bfdb20f4646acac31f8410471db012dc6bd6279b1de7201e686e62e549f9ac90ba41a34500081981e6b123069d90d9fdc01b71e377807e80d086e810da6b0b8396000d2211a76932eb22a5abadc9b810ccc93a700e2357e0cc946c38e5047da4b7d7c12af4e54eddaa44c820add253902ba3ee92c76e3a3571b65b436affa0b95000d3af0dacf62644d69b54a44d2c9a4bf30e03e38b1fb61e51bd9deaf6dfba45302ba44b5ce6c8790a1cefa8f3b32863175bcdc2f794f1997aa96caea894de117af49f563100802c9d1fa1cde8e86d39011c9eb53deebf47d2264e5b06f0de956b662524b910f5479e96cecdb");
const E = 65537n;
const SIZE = 256; // bytes in the 2048-bit modulus

function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

export function encryptPassword(password) {
  const message = new TextEncoder().encode(btoa(unescape(encodeURIComponent(password))));
  if (message.length > SIZE - 11) throw new Error("password too long");
  const block = new Uint8Array(SIZE);
  block[1] = 2;
  const pad = SIZE - 3 - message.length;
  for (let i = 0; i < pad;) {
    for (const b of crypto.getRandomValues(new Uint8Array(pad))) if (b !== 0 && i < pad) block[2 + i++] = b;
  }
  block.set(message, SIZE - message.length);
  let m = 0n;
  for (const b of block) m = (m << 8n) | BigInt(b);
  let c = modPow(m, E, N);
  const out = new Uint8Array(SIZE);
  for (let i = SIZE - 1; i >= 0; i--) { out[i] = Number(c & 0xffn); c >>= 8n; }
  return btoa(String.fromCharCode(...out));
}
