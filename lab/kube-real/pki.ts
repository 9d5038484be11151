/**
 * The control plane's PKI, made with the system `openssl` at each start (EC P-256 throughout, 30 days).
 *
 * Invariants:
 * - One CA signs the API server's serving certificate and every client certificate; it is both the kubeconfigs'
 *   certificate-authority-data and the API server's --client-ca-file, so clients verify TLS and the server verifies
 *   clients, nobody skips verification.
 * - A client certificate's CN is the user and its O the group, as the API server reads them: `admin` in
 *   `system:masters`, and the users the RBAC bootstrap policy already binds for the controller manager and scheduler.
 * - The service-account signing key is its own key pair, not the CA's.
 * Everything is written under `dir`, which the caller owns and removes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ClientCert {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface Pki {
  dir: string;
  caPath: string;
  caKeyPath: string;
  caPem: string;
  servingCertPath: string;
  servingKeyPath: string;
  /** Service-account token signing: private key (API server, controller manager) and public key (API server). */
  saKeyPath: string;
  saPubPath: string;
  admin: ClientCert;
  controllerManager: ClientCert;
  scheduler: ClientCert;
}

const run = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args);
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A key and a certificate signed by the CA, with the given subject and extensions. */
async function signed(
  pki: { dir: string; caPath: string; caKeyPath: string },
  name: string,
  subj: string,
  ext: string,
): Promise<{ keyPath: string; certPath: string }> {
  const keyPath = join(pki.dir, `${name}.key`);
  const certPath = join(pki.dir, `${name}.crt`);
  const csr = join(pki.dir, `${name}.csr`);
  const extPath = join(pki.dir, `${name}.ext`);
  writeFileSync(extPath, ext);
  await openssl(['req', ...ecKey, '-subj', subj, '-keyout', keyPath, '-out', csr]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caPath,
    '-CAkey',
    pki.caKeyPath,
    // A random serial per certificate: -CAcreateserial shares one serial file, which parallel signing corrupts.
    '-set_serial',
    `0x${randomBytes(8).toString('hex').replace(/^./, '1')}`,
    '-days',
    '30',
    '-extfile',
    extPath,
    '-out',
    certPath,
  ]);
  return { keyPath, certPath };
}

async function client(
  pki: { dir: string; caPath: string; caKeyPath: string },
  name: string,
  subj: string,
): Promise<ClientCert> {
  const { keyPath, certPath } = await signed(pki, name, subj, 'extendedKeyUsage=clientAuth\n');
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** The CA first, then every key and certificate it signs, in parallel (one openssl process each). */
export async function makePki(dir: string): Promise<Pki> {
  const caPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    ...ecKey,
    '-days',
    '30',
    '-subj',
    '/CN=vector-operator-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyCertSign',
    '-keyout',
    caKeyPath,
    '-out',
    caPath,
  ]);
  const ca = { dir, caPath, caKeyPath };
  const saKeyPath = join(dir, 'sa.key');
  const saPubPath = join(dir, 'sa.pub');
  const [serving, admin, controllerManager, scheduler] = await Promise.all([
    signed(
      ca,
      'apiserver',
      '/CN=kube-apiserver',
      'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,' +
        'IP:127.0.0.1,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n',
    ),
    client(ca, 'admin', '/O=system:masters/CN=admin'),
    client(ca, 'kube-controller-manager', '/CN=system:kube-controller-manager'),
    client(ca, 'kube-scheduler', '/CN=system:kube-scheduler'),
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', saKeyPath]).then(() =>
      openssl(['ec', '-in', saKeyPath, '-pubout', '-out', saPubPath]),
    ),
  ]);
  return {
    dir,
    caPath,
    caKeyPath,
    caPem: readFileSync(caPath, 'utf8'),
    servingCertPath: serving.certPath,
    servingKeyPath: serving.keyPath,
    saKeyPath,
    saPubPath,
    admin,
    controllerManager,
    scheduler,
  };
}
