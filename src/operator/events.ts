/**
 * Kubernetes Events on Vectors (core/v1 Event), for what a user should see in `kubectl describe vector`: each config
 * mode switch, and a config that cannot be published.
 *
 * Invariants:
 * - Events are best effort: a failure to record one is logged by the caller and never fails a reconcile.
 * - An Event is only ever recorded for a change the reconcile made, so a reconcile that changes nothing records none.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request } from '../kube/client.ts';
import { apiVersion, type Vector } from '../pipelines/schemas.ts';

export interface EventSink {
  record(vector: Vector, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export class ApiEventSink implements EventSink {
  private readonly kc: KubeConfig;
  private readonly instance: string;

  constructor(kc: KubeConfig, instance: string) {
    this.kc = kc;
    this.instance = instance;
  }

  async record(vector: Vector, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = vector.metadata.namespace;
    const now = new Date().toISOString();
    await request(this.kc, 'POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${vector.metadata.name}.`, namespace: ns },
        involvedObject: {
          apiVersion,
          kind: 'Vector',
          name: vector.metadata.name,
          namespace: ns,
          ...(vector.metadata.uid === undefined ? {} : { uid: vector.metadata.uid }),
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'vector-operator' },
        reportingComponent: 'vector-operator',
        reportingInstance: this.instance,
      },
    });
  }
}
