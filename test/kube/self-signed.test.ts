/**
 * The in-process self-signed certificate of the secure metrics endpoint: a valid X.509 v3 certificate that Node's own
 * parser reads, signed by its key, naming the hosts it was made for.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateSerial, selfSignedCertificate } from '../../src/kube/self-signed.ts';

describe('self-signed certificate', () => {
  it('is parsed, self-verifying, matches its key, and names its hosts', () => {
    const now = new Date('2026-12-07T05:00:00Z');
    const c = selfSignedCertificate({
      commonName: 'vector-operator',
      dnsNames: ['localhost', 'vector-operator-5d9f'],
      ipAddresses: ['127.0.0.1'],
      validDays: 365,
      now,
    });
    const x = new X509Certificate(c.cert);
    assert.equal(x.subject, 'CN=vector-operator');
    assert.equal(x.issuer, x.subject);
    assert.equal(x.ca, false);
    assert.ok(x.verify(x.publicKey), 'signed by its own key');
    assert.ok(x.checkPrivateKey(createPrivateKey(c.key)));
    assert.equal(x.checkHost('vector-operator-5d9f'), 'vector-operator-5d9f');
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x.checkHost('example.com'), undefined);
    assert.equal(new Date(x.validTo).toISOString(), '2027-12-07T05:00:00.000Z');
    assert.ok(new Date(x.validFrom) < now);
  });

  it('writes a positive, minimal serial whatever the random bytes (OpenSSL refuses a padded INTEGER)', () => {
    for (const first of [0x00, 0x01, 0x7f, 0x80, 0xff])
      for (const second of [0x00, 0x7f, 0x80, 0xff]) {
        const serial = certificateSerial(Buffer.from([first, second, ...new Array<number>(14).fill(0)]));
        assert.equal(serial.length, 16);
        assert.ok((serial[0] ?? 0) >= 0x40 && (serial[0] ?? 0) < 0x80, `first byte ${String(serial[0])}`);
        assert.equal(serial[1], second);
      }
  });

  it('makes a new key and serial at every start', () => {
    const o = { commonName: 'x', dnsNames: ['localhost'], ipAddresses: [], validDays: 1 };
    const a = new X509Certificate(selfSignedCertificate(o).cert);
    const b = new X509Certificate(selfSignedCertificate(o).cert);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
  });
});
