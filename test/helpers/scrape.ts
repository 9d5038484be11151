/** Scraping the operator's metrics endpoint the way kaasops' chart does: HTTPS, HTTP/1.1, a bearer token. */
import { request as httpsRequest } from 'node:https';

/** GET over HTTPS (HTTP/1.1), not verifying the self-signed certificate; the body and status, whatever the status. */
export function getTls(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const req = httpsRequest(url, { rejectUnauthorized: false, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
