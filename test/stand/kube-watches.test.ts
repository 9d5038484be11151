import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { watchesFromMetrics } from '../../lab/scenarios/kube.ts';

describe("the stand's watch count on a real API server", () => {
  it('reads open WATCH requests per core resource from apiserver_longrunning_requests, summed over scopes', () => {
    const text = [
      '# TYPE apiserver_longrunning_requests gauge',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="cluster",subresource="",verb="WATCH",version="v1"} 7',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="WATCH",version="v1"} 2',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="resource",subresource="log",verb="CONNECT",version="v1"} 1',
      'apiserver_longrunning_requests{component="apiserver",group="metrics.k8s.io",resource="pods",scope="cluster",subresource="",verb="WATCH",version="v1beta1"} 5',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="nodes",scope="cluster",subresource="",verb="WATCH",version="v1"} 3',
      'apiserver_request_total{code="200",component="apiserver",group="",resource="pods",verb="WATCH"} 40',
    ].join('\n');
    const w = watchesFromMetrics(text);
    assert.equal(w.get('pods'), 9);
    assert.equal(w.get('nodes'), 3);
    assert.equal(w.get('namespaces'), undefined);
  });
});
