/**
 * The kubeconfig the stand-in hands out.
 *
 * Invariant: cluster, user and context are all named `lab`, the context is current, and the server's own certificate
 * is the certificate authority, so clients verify TLS rather than skip it.
 */
import { stringify as toYaml } from 'yaml';

export function kubeconfigYaml(url: string, caPem: string, token: string): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'lab', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: 'lab', user: { token } }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'lab', namespace: 'default' } }],
    'current-context': 'lab',
    preferences: {},
  });
}
