/**
 * Kubernetes Events (core/v1 Event) on Vectors and pipelines, for what a user should see in `kubectl describe`: each
 * config mode switch, a config that cannot be published, and a pipeline kept flowing although the tenant policy calls
 * it unsafe (warn mode).
 *
 * Invariants:
 * - Events are best effort: a failure to record one is logged by the caller and never fails a reconcile.
 * - An Event is only ever recorded for a change the reconcile made, so a reconcile that changes nothing records none.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request } from '../kube/client.ts';
import { apiVersion, type Pipeline, type Vector } from '../pipelines/schemas.ts';

/** What an Event is about: a Vector or a pipeline. A cluster-scoped one's Events go to `default`, as kubectl's do. */
export type EventSubject = Vector | Pipeline;

export interface EventSink {
  record(subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export class ApiEventSink implements EventSink {
  private readonly kc: KubeConfig;
  private readonly instance: string;

  constructor(kc: KubeConfig, instance: string) {
    this.kc = kc;
    this.instance = instance;
  }

  async record(subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = subject.metadata.namespace ?? 'default';
    const involvedNamespace = subject.metadata.namespace === undefined ? {} : { namespace: ns };
    const now = new Date().toISOString();
    await request(this.kc, 'POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${subject.metadata.name}.`, namespace: ns },
        involvedObject: {
          apiVersion,
          kind: subject.kind,
          name: subject.metadata.name,
          ...involvedNamespace,
          ...(subject.metadata.uid === undefined ? {} : { uid: subject.metadata.uid }),
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
