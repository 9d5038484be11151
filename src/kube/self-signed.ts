/**
 * A self-signed X.509 certificate made in process, for the secure metrics endpoint (controller-runtime generates one
 * the same way when no certificate is given). Node's crypto makes keys and signatures but cannot write a certificate,
 * and the operator image is distroless (no openssl), so the DER of the certificate is written here.
 *
 * Invariants:
 * - ECDSA P-256 with SHA-256; X.509 v3; the subject is its own issuer; basicConstraints CA:FALSE; subjectAltName
 *   lists the given DNS names and IPv4 addresses, so a client that pins this certificate can verify the host.
 * - The key never leaves memory. A new pair is made at every start (scrapers skip verification, as kaasops' chart
 *   configures them: `insecureSkipVerify`).
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  if (n < 0x80) return Buffer.concat([Buffer.from([tag, n]), content]);
  const len: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | len.length, ...len]), content]);
}

const seq = (...parts: Buffer[]): Buffer => der(0x30, Buffer.concat(parts));

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** UTCTime, YYMMDDHHMMSSZ (valid for years before 2050). */
function utcTime(d: Date): Buffer {
  return der(
    0x17,
    Buffer.from(
      d
        .toISOString()
        .replace(/[-:T]|\.\d+/g, '')
        .slice(2),
      'ascii',
    ),
  );
}

const name = (cn: string): Buffer => seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

export interface CertificateOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  validDays: number;
  now?: Date;
}

/**
 * A DER INTEGER's content from random bytes: positive (high bit clear) and minimal (first byte non-zero), which
 * X.509 parsers require. A first byte of 0 with a second below 0x80 is a padded INTEGER OpenSSL refuses.
 */
export function certificateSerial(random: Buffer): Buffer {
  const serial = Buffer.from(random);
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  return serial;
}

/** PEM certificate and PKCS#8 PEM key. */
export function selfSignedCertificate(o: CertificateOptions): { cert: string; key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const serial = certificateSerial(randomBytes(16));
  const now = o.now ?? new Date();
  const san = seq(
    ...o.dnsNames.map((d) => der(0x82, Buffer.from(d, 'ascii'))),
    ...o.ipAddresses.map((ip) => der(0x87, Buffer.from(ip.split('.').map(Number)))),
  );
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaSha256,
    name(o.commonName),
    seq(utcTime(new Date(now.getTime() - 60_000)), utcTime(new Date(now.getTime() + o.validDays * 86_400_000))),
    name(o.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(
        extension('2.5.29.19', true, seq()), // basicConstraints: CA false
        extension('2.5.29.15', true, der(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', false, san),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = seq(tbs, ecdsaSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = cert
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')
    .trimEnd();
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${pem}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
