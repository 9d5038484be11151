/**
 * The stand-in's listener at close(): every connection ends, including one whose TLS handshake completes after
 * close() began (a client that connected just before), so close() never waits on a client's own idle timeout.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServer } from '../../lab/apiserver/server.ts';

const clients: Socket[] = [];
// Whatever the outcome, the client goes: a server still waiting on it would keep the test process alive.
after(() => {
  for (const c of clients) c.destroy();
});

it('close() ends a connection whose handshake completes after it began', { timeout: 20_000 }, async () => {
  const api = await startApiServer({});
  const raw = tcpConnect(api.port, '127.0.0.1');
  clients.push(raw);
  await once(raw, 'connect');
  // Let the server accept the TCP connection before close() begins; the TLS handshake has not started yet.
  await sleep(50);
  const closing = api.close();
  const client = tlsConnect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
  client.on('error', () => {});
  const closed = once(client, 'close');
  await closing;
  await closed;
  assert.equal(client.destroyed, true);
});
